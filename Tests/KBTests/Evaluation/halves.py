#!/usr/bin/env python3
"""Split a studied set's messages into two fixed halves for tuning and checking.

Fixed before any tuning on the set (ThirdSet: session of 2026-12-06, evening;
FourthSet: the same evening, after the lead's one evaluation of it; FifthSet:
the session of 2026-12-06 night, after the lead's one evaluation of it):
  half A (tuning): the 1st, 3rd, 5th ... topic section of messages.tsv and the
                   1st, 3rd, 5th ... unanswerable message;
  half B (check):  the 2nd, 4th, 6th ... topic section and the 2nd, 4th ...
                   unanswerable message.
Splitting by topic keeps every message about one article in one half, so a
change fitted to one article's wording cannot show up as a gain on the other.

usage: halves.py SETFOLDER OUTDIR   writes OUTDIR/halfA.tsv and OUTDIR/halfB.tsv, then
       KBBench --kb SETFOLDER/kb --evaluate --set OUTDIR/halfA.tsv
e.g.   halves.py Tests/KBTests/Evaluation/ThirdSet /tmp/third
"""
import os
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__)
folder, out = sys.argv[1], sys.argv[2]
if os.path.basename(os.path.normpath(folder)) in ("SixthSet", "SeventhSet"):
    sys.exit(f"halves.py: {os.path.basename(os.path.normpath(folder))} is held out; it is not split or tuned on")
halves = {"A": [], "B": []}
section = -1
unanswerable = 0
with open(os.path.join(folder, "messages.tsv"), encoding="utf-8") as f:
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
os.makedirs(out, exist_ok=True)
for name, lines in halves.items():
    with open(os.path.join(out, "half%s.tsv" % name), "w", encoding="utf-8") as f:
        f.writelines(lines)
    print("half %s: %d messages" % (name, len(lines)))
