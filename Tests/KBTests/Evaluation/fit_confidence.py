#!/usr/bin/env python3
"""Does another confidence function separate answerable from unanswerable messages better?

Reads the confidence's raw parts per candidate that `KBBench --evaluate FOLDER --features`
prints (one file per development set), fits a logistic regression on the first candidate of
every message of the tuning parts ("is the first candidate a helpful article?") for several
feature sets, and prints, per set and part, the best share of answerable messages whose first
candidate helps and clears the threshold while at most 10 % of the unanswerable messages clear
it, for the current confidence and for each fit (the best threshold is chosen per row, so the
figures compare separation, not calibration).

    swift build --product KBBench
    .build/debug/KBBench --evaluate --features > /tmp/nordbox.tsv
    .build/debug/KBBench --evaluate Tests/KBTests/Evaluation/SecondSet --features > /tmp/kantelo.tsv
    python3 Tests/KBTests/Evaluation/fit_confidence.py /tmp/nordbox.tsv /tmp/kantelo.tsv

Never run it on the held-out sets (SixthSet, SeventhSet): it is for development sets only
(ThirdSet and FourthSet are study sets since the session of 2026-12-06 evening,
FifthSet since the session of 2026-12-06 night).
Needs numpy.
"""
import csv
import math
import sys

import numpy as np

FEATURES = {
    "log coverage": lambda m: math.log(max(m["coverage"], 1e-3)),
    "log evidence": lambda m: math.log(max(m["evidence"], 1e-3)),
    # Confidence minus the next candidate's (0 for a translated twin, which shares it).
    "margin": lambda m: m["margin"],
    # Query words the article matches that are not common words of the language.
    "specific words": lambda m: min(m["clausesMatched"] - m["matchedCommon"], 3),
    # Query words the KB does not know and that are not common words (a topic the KB lacks?).
    "unknown rare words": lambda m: min(m["unknownRare"], 2),
    "headline share": lambda m: min(1, m["matchedHeadline"] / max(m["informativeness"], 1e-6)),
    "clause share": lambda m: m["clausesMatched"] / max(1, m["clauses"]),
}
FITS = [
    ["log coverage", "log evidence"],
    ["log coverage", "log evidence", "margin"],
    ["log coverage", "log evidence", "specific words", "margin"],
    ["log coverage", "log evidence", "specific words", "margin", "unknown rare words", "headline share",
     "clause share"],
]


def messages(path):
    """One dict per message: its first candidate's parts, or has=False when nothing matched."""
    if "SixthSet" in path or "SeventhSet" in path:
        sys.exit(f"{path}: the sixth and seventh sets are held out; fit on development sets only")
    by_line = {}
    for row in csv.DictReader(open(path), delimiter="\t"):
        by_line.setdefault(row["line"], []).append(row)
    out = []
    for rows in by_line.values():
        first = rows[0]
        m = {"set": path, "kind": first["kind"], "heldout": first["heldout"] == "1",
             "answerable": first["answerable"] == "1", "has": first["rank"] != "0"}
        if m["has"]:
            for key, value in first.items():
                if key not in ("line", "kind"):
                    m[key] = float(value)
            m["helpful"] = first["relevant"] == "1"
            m["margin"] = m["confidence"] - (float(rows[1]["confidence"]) if len(rows) > 1 else 0)
        out.append(m)
    return out


def fit(x, y, l2=0.01, rounds=50):
    """Logistic regression by Newton's method with a small L2 penalty (not on the intercept)."""
    x = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1])
    penalty = np.eye(len(w)) * l2
    penalty[-1, -1] = 0
    for _ in range(rounds):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) / len(y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + penalty
        w -= np.linalg.solve(hessian, gradient)
    return w


def best_at_false_offers(group, score, limit=0.10):
    answerable = [m for m in group if m["answerable"]]
    unanswerable = [m for m in group if not m["answerable"]]
    best = (0.0, None)
    for t in np.linspace(0, 1, 401):
        false = sum(1 for m in unanswerable if m["has"] and score(m) >= t) / max(1, len(unanswerable))
        if false <= limit:
            helpful = sum(1 for m in answerable if m["has"] and m["helpful"] and score(m) >= t) / max(1, len(answerable))
            best = max(best, (helpful, round(float(t), 3)))
    return best


def main(paths):
    data = [m for path in paths for m in messages(path)]
    train = [m for m in data if m["has"] and not m["heldout"]]
    groups = [(f"{path} {'held-out' if held else 'tuning'}", [m for m in data if m["set"] == path and m["heldout"] == held])
              for path in paths for held in (False, True)]
    scorers = [("current confidence", lambda m: m["confidence"])]
    for names in FITS:
        x = np.array([[FEATURES[n](m) for n in names] for m in train])
        y = np.array([1.0 if m["answerable"] and m["helpful"] else 0.0 for m in train])
        w = fit(x, y)
        weights = ", ".join(f"{n} {v:+.2f}" for n, v in zip(names + ["intercept"], w))
        scorers.append((weights, lambda m, names=names, w=w:
                        1 / (1 + math.exp(-(np.dot([FEATURES[n](m) for n in names], w[:-1]) + w[-1])))))
    print("best share of answerable messages whose first candidate helps and is offered, "
          "with at most 10 % false offers (threshold chosen per row)")
    for name, score in scorers:
        print(name)
        for label, group in groups:
            helpful, threshold = best_at_false_offers(group, score)
            print(f"    {label}: {helpful:.2f} at threshold {threshold}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
