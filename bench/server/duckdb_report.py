"""The reference for `rapport-bench report`: DuckDB computing the NPS and CRQ figures.

Usage: python duckdb_report.py RESPONSES.csv REPEATS [SQLITE_FILE]

Loads the exported responses (one row per stored response: the 0-10 answer, the seven
client-portal element ratings, empty when not given) into an in-memory DuckDB table, which
is not timed, then runs the query REPEATS times and prints one JSON object: the DuckDB
version, the time of each query run, and the figures.

With SQLITE_FILE (Rapport's own database), it also runs the same query REPEATS times on a
fresh connection that attaches that file read-only through DuckDB's SQLite extension and
reads the answers from their stored JSON: DuckDB's cold read of the same rows, timed from
the attach to the figures. The extension comes from its PyPI package, loaded from a file.

The figures follow Rapport's definitions: NPS = %promoters (9-10) - %detractors (0-6) of
those who answered; the mean 0-10 answer; a level score is the mean of a response's answered
elements of that level, and the overall CRQ is the mean of its level scores, so each level
weighs the same; level and overall means are over the responses that have them.
"""

import glob
import json
import os
import shutil
import sys
import tempfile
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


ELEMENTS = ["trust", "commitment", "satisfaction", "uniqueness", "reliability", "responsiveness", "care"]

# The stored responses of the client-portal survey as the query reads them: the 0-10 answer
# and each element's rating, from the answers' JSON.
SQLITE_VIEW = "CREATE VIEW responses AS SELECT " + ", ".join(
    ["CAST(json_extract_string(answers, '$.nps') AS INTEGER) AS nps"]
    + [f"CAST(json_extract_string(answers, '$.ratings.{e}') AS INTEGER) AS {e}" for e in ELEMENTS]
) + " FROM stored.responses WHERE survey_id = 'client-portal'"


def sqlite_extension():
    """The SQLite extension of the installed `duckdb-extension-sqlite` package, copied under
    the file name DuckDB looks for its entry point by."""
    import duckdb_extension_sqlite

    found = glob.glob(os.path.join(os.path.dirname(duckdb_extension_sqlite.__file__), "extensions", "*", "*.duckdb_extension"))
    if not found:
        sys.exit("the duckdb-extension-sqlite package holds no extension")
    target = os.path.join(tempfile.mkdtemp(), "sqlite_scanner.duckdb_extension")
    shutil.copyfile(found[0], target)
    return target


def from_sqlite(sqlite_file, repeats):
    extension = sqlite_extension()
    times = []
    row = names = None
    for _ in range(repeats):
        connection = duckdb.connect()
        connection.execute(f"LOAD '{extension}'")
        started = time.perf_counter()
        quoted = sqlite_file.replace("'", "''")
        connection.execute(f"ATTACH '{quoted}' AS stored (TYPE sqlite, READ_ONLY)")
        connection.execute(SQLITE_VIEW)
        cursor = connection.execute(QUERY)
        row = cursor.fetchone()
        times.append(time.perf_counter() - started)
        names = [column[0] for column in cursor.description]
        connection.close()
    return {"seconds": times, "figures": dict(zip(names, row))}


def main():
    path, repeats = sys.argv[1], int(sys.argv[2])
    sqlite_file = sys.argv[3] if len(sys.argv) > 3 else None
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
    result = {"version": duckdb.__version__, "seconds": times, "figures": dict(zip(names, row))}
    if sqlite_file is not None:
        result["sqlite"] = from_sqlite(sqlite_file, repeats)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
