"""Writes tests/fixtures/drivers-synthetic.jsonl: responses to the built-in
`legal-contract-experience` survey (five contract-experience statements and the seven CRQ
elements) whose ratings follow one shared factor, so that some items are strongly
correlated with one another (trust with commitment, reliability with responsiveness), and
a few ratings are left unanswered. Only the standard library is used, with a fixed seed,
so the file is the same on every machine. Run from the repository root; the file is
committed, and drivers.py computes the reference figures from it.
"""

import json
import random

ITEMS = [
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
]


def clamp(value, low, high):
    return max(low, min(high, value))


def main():
    rng = random.Random(20261202)
    lines = []
    for idx in range(90):
        overall = rng.gauss(0.0, 1.0)
        service = rng.gauss(0.0, 1.0)
        ratings = {}
        for item in ITEMS:
            noise = rng.gauss(0.0, 0.8)
            ratings[item] = overall + noise
        # Strongly correlated pairs: the second is the first with a little noise.
        ratings["commitment"] = ratings["trust"] + rng.gauss(0.0, 0.3)
        ratings["reliability"] = service + rng.gauss(0.0, 0.5)
        ratings["responsiveness"] = ratings["reliability"] + rng.gauss(0.0, 0.3)
        ratings["care"] = 0.6 * overall + 0.6 * service + rng.gauss(0.0, 0.6)
        answers = {
            item: clamp(round(4.5 + 1.3 * value), 1, 7) for item, value in ratings.items()
        }
        nps = clamp(
            round(
                7.0
                + 1.2 * ratings["care"]
                + 0.8 * ratings["trust"]
                + 0.4 * ratings["problem-handling"]
                + rng.gauss(0.0, 1.0)
            ),
            0,
            10,
        )
        answers["nps"] = nps
        # A few unanswered ratings: these rows count for the item means and the pairwise
        # correlations of the items they did rate, never for the regression.
        if idx % 17 == 5:
            del answers[ITEMS[idx % len(ITEMS)]]
        record = {
            "format": 1,
            "response_id": f"00000000-0000-4000-8000-{0xD000 + idx:012x}",
            "survey_id": "legal-contract-experience",
            "survey_version": 1,
            "answers": dict(sorted(answers.items())),
            "confidentiality": "identified",
            "context": {"account": f"account-{idx % 6}"},
            "submitted_at": "2026-11-23T09:30:00Z",
        }
        lines.append(json.dumps(record, separators=(",", ":")))
    with open("tests/fixtures/drivers-synthetic.jsonl", "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
