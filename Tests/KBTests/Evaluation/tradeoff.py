#!/usr/bin/env python3
"""Does a change to the search beat moving the threshold? Prints, per threshold, what the
suggestions do summed over several labelled sets (or halves of them): answerable messages
offered a helpful article, unanswerable messages offered anything, and the same for chat
sentences and cross-language messages.

A rule that lowers (or raises) confidence always trades helpful offers for false offers;
compare two builds' lines at EQUAL false offers, not at the same threshold. Sum the tuning
halves to tune and the check halves to check (halves.py writes them), e.g.

    swift build -c release --product KBBench && cp .build/release/KBBench /tmp/new
    E=Tests/KBTests/Evaluation
    tradeoff.py --bench /tmp/old --bench /tmp/new --thresholds 0.55,0.6,0.65 \\
        $E/SecondSet $E/ThirdSet:/tmp/third/halfA.tsv $E/FourthSet:/tmp/fourth/halfA.tsv

A set is FOLDER (its messages.tsv) or FOLDER:MESSAGES (a half); "nordbox" is the shipped
KB with Tests/KBTests/Evaluation/problems.tsv. Run from the package root. The held-out
sets (SixthSet, SeventhSet) are refused: they are for reporting, not for choosing.
"""
import os
import re
import subprocess
import sys

ROW = re.compile(r"^(all|sentence|crosslang)\s+(\d+)\s+\|\s+[\d.]+ %\s+([\d.]+) %")
FALSE = re.compile(r"(\d+) of (\d+)")


def measure(binary, threshold, sets):
    """Summed counts at `threshold`: helpful/answerable, false/unanswerable, per kind."""
    total = {"helpful": 0, "answerable": 0, "false": 0, "unanswerable": 0,
             "sentence": [0, 0], "crosslang": [0, 0]}
    for spec in sets:
        args = [binary, "--evaluate"]
        if spec != "nordbox":
            folder, _, half = spec.partition(":")
            args += [folder] + (["--set", half] if half else [])
        args += ["--brief", "--threshold", str(threshold)]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = ROW.match(line)
            if not m or (m.group(1) == "all" and " of " not in line):
                continue
            n, offered = int(m.group(2)), float(m.group(3)) / 100
            if m.group(1) == "all":
                false, unanswerable = map(int, FALSE.search(line).groups())
                total["helpful"] += round(offered * (n - unanswerable))
                total["answerable"] += n - unanswerable
                total["false"] += false
                total["unanswerable"] += unanswerable
            else:
                total[m.group(1)][0] += round(offered * n)
                total[m.group(1)][1] += n
    return total


def main(argv):
    binaries, sets, thresholds = [], [], [0.6]
    while argv:
        arg = argv.pop(0)
        if arg == "--thresholds":
            thresholds = [float(t) for t in argv.pop(0).split(",")]
        elif arg == "--bench":
            binaries.append(argv.pop(0))
        else:
            held = os.path.basename(os.path.normpath(arg.partition(":")[0]))
            if held in ("SixthSet", "SeventhSet"):
                sys.exit(f"tradeoff.py: {held} is held out; compare builds on development sets only")
            sets.append(arg)
    if not binaries or not sets:
        sys.exit(__doc__)
    for binary in binaries:
        print(binary)
        for t in thresholds:
            m = measure(binary, t, sets)
            print("  threshold %.2f  helpful offered %4d/%d = %.3f  false offers %3d/%d = %.3f"
                  "  sentences %d/%d  crosslang %d/%d" % (
                      t, m["helpful"], m["answerable"], m["helpful"] / max(1, m["answerable"]),
                      m["false"], m["unanswerable"], m["false"] / max(1, m["unanswerable"]),
                      *m["sentence"], *m["crosslang"]))


if __name__ == "__main__":
    main(sys.argv[1:])
