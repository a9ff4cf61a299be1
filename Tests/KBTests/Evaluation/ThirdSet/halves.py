#!/usr/bin/env python3
"""Split the Fennick messages into two fixed halves for tuning and checking.

Fixed before any tuning on the set (session of 2026-12-06, evening):
  half A (tuning): the 1st, 3rd, 5th ... topic section of messages.tsv and the
                   1st, 3rd, 5th ... unanswerable message;
  half B (check):  the 2nd, 4th, 6th ... topic section and the 2nd, 4th ...
                   unanswerable message.
Splitting by topic keeps every message about one article in one half, so a
change fitted to one article's wording cannot show up as a gain on the other.

usage: halves.py OUTDIR   writes OUTDIR/halfA.tsv and OUTDIR/halfB.tsv, then
       KBBench --kb Tests/KBTests/Evaluation/ThirdSet/kb --evaluate --set OUTDIR/halfA.tsv
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else "."
halves = {"A": [], "B": []}
section = -1
unanswerable = 0
with open(os.path.join(here, "messages.tsv"), encoding="utf-8") as f:
    for line in f:
        if line.startswith("# ---"):
            section += 1
            continue
        if line.startswith("#") or not line.strip():
            continue
        if line.split("\t")[0] == "-":
            half = "A" if unanswerable % 2 == 0 else "B"
            unanswerable += 1
        else:
            half = "A" if section % 2 == 0 else "B"
        halves[half].append(line)
for name, lines in halves.items():
    with open(os.path.join(out, "half%s.tsv" % name), "w", encoding="utf-8") as f:
        f.writelines(lines)
    print("half %s: %d messages" % (name, len(lines)))
