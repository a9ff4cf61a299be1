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

With --per-kb (one features file per knowledge base, whole sets), it asks instead whether a
confidence calibrated per knowledge base could help: per file, the lowest threshold at which at
most 10 % of the unanswerable messages are offered (first candidate) with a bootstrap interval
(how much of the spread between knowledge bases the few unanswerable messages of each set can
explain), and, summed over the files, the most helpful first candidates at each total of false
offers for ONE threshold against the BEST THRESHOLD PER FILE chosen with the labels. Any monotone
per-KB mapping of the confidence (a calibration) is one threshold per file, so the second column
is an upper bound of what any calibration can gain:

    python3 Tests/KBTests/Evaluation/fit_confidence.py --per-kb /tmp/nordbox.tsv /tmp/kantelo.tsv ...

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


def counts(group, t):
    """Answerable messages whose first candidate helps at threshold t, and unanswerable ones offered."""
    helpful = sum(1 for m in group if m["answerable"] and m["has"] and m["helpful"] and m["confidence"] >= t)
    false = sum(1 for m in group if not m["answerable"] and m["has"] and m["confidence"] >= t)
    return helpful, false


def lowest_threshold(group, limit=0.10):
    """The lowest threshold at which at most `limit` of the unanswerable messages are offered."""
    offered = sorted((m["confidence"] for m in group if not m["answerable"] and m["has"]), reverse=True)
    allowed = int(limit * sum(1 for m in group if not m["answerable"]) + 1e-9)
    return offered[allowed] + 1e-4 if len(offered) > allowed else 0.0


def per_kb(paths, rounds=2000):
    import random
    sets = {path: messages(path) for path in paths}
    print("per knowledge base: lowest threshold with at most 10 % false offers (first candidate),\n"
          "bootstrap 5-95 % over the unanswerable messages, and what the first candidate does at 0.6")
    chosen = []
    for path, group in sets.items():
        rng = random.Random(1)
        answerable = [m for m in group if m["answerable"]]
        unanswerable = [m for m in group if not m["answerable"]]
        resampled = sorted(lowest_threshold([rng.choice(unanswerable) for _ in unanswerable])
                           for _ in range(rounds))
        t = lowest_threshold(group)
        chosen.append(t)
        helpful, false = counts(group, 0.6)
        print(f"    {path}: {t:.3f} (bootstrap {resampled[rounds // 20]:.3f} .. {resampled[rounds * 19 // 20]:.3f}), "
              f"{len(unanswerable)} unanswerable; at 0.6 helpful {helpful / max(1, len(answerable)):.3f}, "
              f"false {false}/{len(unanswerable)}")
    print(f"    spread {max(chosen) - min(chosen):.3f}, mean distance from 0.6 {sum(abs(t - 0.6) for t in chosen) / len(chosen):.3f}")
    # Per file: for each number of false offers, the most helpful first candidates and the threshold.
    options = []
    for group in sets.values():
        best = {}
        for t in sorted({m["confidence"] for m in group if m["has"]} | {1.01}):
            helpful, false = counts(group, t)
            if false not in best or best[false][0] < helpful:
                best[false] = (helpful, t)
        options.append(best)
    frontier = {0: (0, [])}
    for best in options:
        merged = {}
        for f0, (h0, ts) in frontier.items():
            for f1, (h1, t1) in best.items():
                if f0 + f1 not in merged or merged[f0 + f1][0] < h0 + h1:
                    merged[f0 + f1] = (h0 + h1, ts + [t1])
        frontier = merged
    single = {}
    for t in np.linspace(0.3, 1.0, 701):
        summed = [counts(group, t) for group in sets.values()]
        helpful, false = sum(h for h, _ in summed), sum(f for _, f in summed)
        if false not in single or single[false][0] < helpful:
            single[false] = (helpful, float(t))
    answerable = sum(1 for group in sets.values() for m in group if m["answerable"])
    unanswerable = sum(1 for group in sets.values() for m in group if not m["answerable"])
    at_06 = [counts(group, 0.6) for group in sets.values()]
    budgets = sorted({sum(f for _, f in at_06)} | {round(unanswerable * share) for share in (0.04, 0.06, 0.08, 0.10, 0.12)})
    print(f"summed over the files ({answerable} answerable, {unanswerable} unanswerable; at 0.6: "
          f"{sum(f for _, f in at_06)} false): helpful first candidates at most F false offers")
    for budget in budgets:
        one = max((v for f, v in single.items() if f <= budget), key=lambda v: v[0], default=(0, 0))
        each = max((v for f, v in frontier.items() if f <= budget), key=lambda v: v[0], default=(0, []))
        print(f"    F {budget:3d}: one threshold {one[0]} (at {one[1]:.3f}); best per file {each[0]} "
              f"(at {', '.join(f'{t:.3f}' for t in each[1])}); gain {each[0] - one[0]} = {(each[0] - one[0]) / answerable:.3f}")


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
    if sys.argv[1] == "--per-kb":
        per_kb(sys.argv[2:])
    else:
        main(sys.argv[1:])
