#!/usr/bin/env python3
"""Operator-loop simulation: an operator reads `kb gaps` for the past half of
a set's traffic and adds each missed customer message, as written, to the
`questions:` of the article that solved it; the future half is evaluated
with and without those questions.  Split: within each topic section, messages
alternate past/future (both directions run: A->B and B->A, summed).
Unanswerable messages all go to the future half (nothing to add for them).
usage: verbatim_questions.py SETFOLDER WORKDIR KBBENCH   (from the package root)
Measured (session of 2026-12-07, 14th): future helpful offered +0.00 to +0.02 on
Second-Fifth; an operator's generalised questions (operator_split.py) did +0.04."""
import os, re, shutil, subprocess, sys
if len(sys.argv) != 4:
    sys.exit(__doc__)
folder, work, bench = sys.argv[1:4]
if os.path.basename(os.path.normpath(folder)) in ("SixthSet", "SeventhSet"):
    sys.exit("verbatim_questions.py: held-out sets are not used")
lines = open(os.path.join(folder, "messages.tsv"), encoding="utf-8").read().splitlines()
halves = {"A": [], "B": []}; unans = []
i = 0
for line in lines:
    if line.startswith("# ---"):
        i = 0; continue
    if line.startswith("#") or not line.strip():
        continue
    if line.split("\t")[0] == "-":
        unans.append(line); continue
    halves["A" if i % 2 == 0 else "B"].append(line); i += 1

def evaluate(kb, tsv):
    out = subprocess.run([bench, "--kb", kb, "--evaluate", "--set", tsv], capture_output=True, text=True).stdout
    return out

def missed(out, tsv):
    rows = open(tsv, encoding="utf-8").read().splitlines()
    section = None; result = []
    for l in out.splitlines():
        if l.startswith("Answerable descriptions offered nothing") or l.startswith("Answerable descriptions offered an article that does not help"):
            section = True; continue
        if l and not l.startswith(" "):
            section = None; continue
        m = re.match(r"  [TH] \S+:(\d+) ", l)
        if section and m:
            result.append(rows[int(m.group(1)) - 1])
    return result

def summary(out):
    return [l for l in out.splitlines() if l.startswith("summary all")][0]

totals = {}
for past, future in (("A", "B"), ("B", "A")):
    d = os.path.join(work, past + "to" + future)
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    ptsv = os.path.join(d, "past.tsv"); ftsv = os.path.join(d, "future.tsv")
    open(ptsv, "w").write("\n".join(halves[past]) + "\n")
    open(ftsv, "w").write("\n".join(halves[future] + unans) + "\n")
    kb = os.path.join(folder, "kb")
    miss = missed(evaluate(kb, ptsv), ptsv)
    newkb = os.path.join(d, "kb"); shutil.copytree(kb, newkb)
    files = {}
    for root, _, names in os.walk(newkb):
        for n in names:
            p = os.path.join(root, n); text = open(p, encoding="utf-8").read()
            m = re.search(r"^id:\s*(\S+)", text, re.M); lm = re.search(r"^language:\s*(\S+)", text, re.M)
            if m: files[m.group(1)] = [p, lm.group(1) if lm else "", len(re.findall(r"^questions:", text, re.M))]
    added = 0
    for row in miss:
        ids, lang, kind, text = row.split("\t")
        cands = ids.split(",")
        target = next((c for c in cands if c in files and files[c][1] == lang), cands[0])
        if target not in files or files[target][2] >= 12: continue
        q = text.replace("|", " ").strip()
        if len(q) > 160: q = q[:160].rsplit(" ", 1)[0]
        p = files[target][0]; t = open(p, encoding="utf-8").read()
        t = re.sub(r"^(tags:.*)$", lambda m: m.group(1) + "\nquestions: " + q.replace("\\", "\\\\"), t, count=1, flags=re.M)
        open(p, "w", encoding="utf-8").write(t); files[target][2] += 1; added += 1
    before = summary(evaluate(kb, ftsv)); after = summary(evaluate(newkb, ftsv))
    print(f"{past}->{future}: past {len(halves[past])} msgs, {len(miss)} missed, {added} questions added")
    print("  before:", before); print("  after: ", after)
