"""Reference figures for key drivers, computed independently of the Rust code.

For each fixture (a JSONL file of wire-format responses, all identified, so a report
counts every row) this computes what `scoring::drivers` puts in a report, with
well-known libraries rather than our own arithmetic:

- the mean rating and count of each rated item (numpy);
- the Pearson correlation of each item with the 0-10 answer over the responses with both,
  and its 95% Fisher-z interval: `scipy.stats.pearsonr(...).confidence_interval()`;
- over complete cases (the 0-10 answer and every item answered): the OLS regression of the
  z-scored 0-10 answer on the z-scored items with a constant (statsmodels `sm.OLS`):
  `.params`, `.conf_int()` at 95% and `.rsquared`;
- Johnson's (2000) relative weights from `numpy.linalg.eigh` of the items' correlation
  matrix.

Drivers are absent (null) with fewer complete cases than max(minimum group size, items +
10), or when the items' correlation matrix is singular (an item constant, or a linear
combination of others: the committed domain fixtures rate every element alike).

Usage, from the repository root: python3 scoring/tests/reference/drivers.py > expected.json
`cargo xtask test` runs it in a virtual environment with the pinned versions below and
compares its output with the committed scoring/tests/reference/drivers.expected.json.
"""

import json
import sys

import numpy as np
import scipy.stats
import statsmodels.api as sm

# The rated items of the built-in templates, in survey order (the order of the questions).
RATED_ITEMS = {
    "client-portal": [
        "trust",
        "commitment",
        "satisfaction",
        "uniqueness",
        "reliability",
        "responsiveness",
        "care",
    ],
    "legal-contract-experience": [
        "kept-informed",
        "unexpected-changes",
        "problem-handling",
        "meeting-scope",
        "quick-replies",
        "trust",
        "commitment",
        "satisfaction",
        "uniqueness",
        "reliability",
        "responsiveness",
        "care",
    ],
}

# Every built-in template's minimum group size.
MIN_GROUP_SIZE = 5
EXTRA_COMPLETE_CASES = 10

FIXTURES = [
    "tests/fixtures/drivers-synthetic.jsonl",
    "tests/fixtures/domain-opt-in.jsonl",
    "tests/fixtures/domain-waves.jsonl",
]


def drivers_of(path):
    with open(path, encoding="utf-8") as lines:
        responses = [json.loads(line) for line in lines if line.strip()]
    survey_ids = {response["survey_id"] for response in responses}
    assert len(survey_ids) == 1, f"{path}: one survey per fixture"
    items = RATED_ITEMS[survey_ids.pop()]
    answers = [response["answers"] for response in responses]

    complete = [a for a in answers if "nps" in a and all(item in a for item in items)]
    if len(complete) < max(MIN_GROUP_SIZE, len(items) + EXTRA_COMPLETE_CASES):
        return None
    x = np.array([[a[item] for item in items] for a in complete], dtype=float)
    y = np.array([a["nps"] for a in complete], dtype=float)
    if np.any(x.std(axis=0) == 0) or y.std() == 0:
        return None
    correlations = np.corrcoef(x, rowvar=False)
    if np.linalg.matrix_rank(correlations) < len(items):
        return None

    z_x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    z_y = (y - y.mean()) / y.std(ddof=1)
    fit = sm.OLS(z_y, sm.add_constant(z_x)).fit()
    intervals = fit.conf_int(alpha=0.05)

    # Johnson's relative weights.
    eigenvalues, eigenvectors = np.linalg.eigh(correlations)
    root = eigenvectors @ np.diag(np.sqrt(eigenvalues)) @ eigenvectors.T
    with_answer = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(len(items))])
    orthogonal = np.linalg.solve(root, with_answer)
    weights = (root**2) @ (orthogonal**2)

    drivers = []
    for j, item in enumerate(items):
        rated = np.array([a[item] for a in answers if item in a], dtype=float)
        pairs = np.array(
            [(a[item], a["nps"]) for a in answers if item in a and "nps" in a], dtype=float
        )
        pearson = scipy.stats.pearsonr(pairs[:, 0], pairs[:, 1])
        interval = pearson.confidence_interval(confidence_level=0.95)
        drivers.append(
            {
                "id": item,
                "mean_rating": float(rated.mean()),
                "n_rated": int(rated.size),
                "r": float(pearson.statistic),
                "r_n": int(pairs.shape[0]),
                "r_low": float(interval.low),
                "r_high": float(interval.high),
                # Column 0 of the design is the constant.
                "coefficient": float(fit.params[j + 1]),
                "coefficient_low": float(intervals[j + 1, 0]),
                "coefficient_high": float(intervals[j + 1, 1]),
                "relative_weight": float(weights[j]),
                "share": float(weights[j] / fit.rsquared),
            }
        )
    return {
        "complete_cases": len(complete),
        "r_squared": float(fit.rsquared),
        "residual_df": int(round(fit.df_resid)),
        "items": drivers,
    }


def main():
    expected = {path: drivers_of(path) for path in FIXTURES}
    json.dump(expected, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
