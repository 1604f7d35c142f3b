"""The reference for `rapport-bench report`: DuckDB computing the NPS and CRQ figures.

Usage: python duckdb_report.py RESPONSES.csv REPEATS

Loads the exported responses (one row per stored response: the 0-10 answer, the seven
client-portal element ratings, empty when not given) into an in-memory DuckDB table, which
is not timed, then runs the query REPEATS times and prints one JSON object: the DuckDB
version, the time of each query run, and the figures.

The figures follow Rapport's definitions: NPS = %promoters (9-10) - %detractors (0-6) of
those who answered; the mean 0-10 answer; a level score is the mean of a response's answered
elements of that level, and the overall CRQ is the mean of its level scores, so each level
weighs the same; level and overall means are over the responses that have them.
"""

import json
import sys
import time

import duckdb

QUERY = """
WITH levels AS (
    SELECT
        nps,
        (coalesce(trust, 0) + coalesce(commitment, 0) + coalesce(satisfaction, 0))
            / nullif((trust IS NOT NULL)::INT + (commitment IS NOT NULL)::INT + (satisfaction IS NOT NULL)::INT, 0)
            AS relationship,
        uniqueness::DOUBLE AS uniqueness,
        (coalesce(reliability, 0) + coalesce(responsiveness, 0) + coalesce(care, 0))
            / nullif((reliability IS NOT NULL)::INT + (responsiveness IS NOT NULL)::INT + (care IS NOT NULL)::INT, 0)
            AS service
    FROM responses
), scored AS (
    SELECT
        *,
        (coalesce(relationship, 0) + coalesce(uniqueness, 0) + coalesce(service, 0))
            / nullif((relationship IS NOT NULL)::INT + (uniqueness IS NOT NULL)::INT + (service IS NOT NULL)::INT, 0)
            AS overall
    FROM levels
)
SELECT
    count(*) AS n,
    count(nps) AS answered,
    count(*) FILTER (WHERE nps >= 9) AS promoters,
    count(*) FILTER (WHERE nps <= 6) AS detractors,
    100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(nps) AS nps,
    avg(nps) AS nps_mean,
    avg(relationship) AS relationship,
    avg(uniqueness) AS uniqueness,
    avg(service) AS service,
    avg(overall) AS crq_mean
FROM scored
"""


def main():
    path, repeats = sys.argv[1], int(sys.argv[2])
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE responses AS SELECT * FROM read_csv(?, header = true, columns = {"
        "'nps': 'INTEGER', 'trust': 'INTEGER', 'commitment': 'INTEGER', 'satisfaction': 'INTEGER', "
        "'uniqueness': 'INTEGER', 'reliability': 'INTEGER', 'responsiveness': 'INTEGER', 'care': 'INTEGER'})",
        [path],
    )
    times = []
    row = None
    for _ in range(repeats):
        started = time.perf_counter()
        cursor = connection.execute(QUERY)
        row = cursor.fetchone()
        times.append(time.perf_counter() - started)
    names = [column[0] for column in cursor.description]
    print(json.dumps({"version": duckdb.__version__, "seconds": times, "figures": dict(zip(names, row))}))


if __name__ == "__main__":
    main()
