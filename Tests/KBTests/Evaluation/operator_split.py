#!/usr/bin/env python3
"""Set up an operator's session on a labelled set (issue 11: does `kb gaps` plus
an operator's `questions:` close the gap on a KB the search was never tuned on?).

Within each topic section of SETFOLDER/messages.tsv the messages alternate
"past" and "future"; every other unanswerable message is past. WORK/operator/
gets the set's articles as bots/kb, the repository's config and other bot
files, a SQLite store (var/tickets.sqlite) holding the past messages as closed
tickets, and solved-with.tsv (per past ticket, the article the agent used, or
"no article"): what an operator has. WORK-lead/ gets past.tsv and future.tsv:
what the operator must not see. After the operator's edits, compare

    KBBench --kb SETFOLDER/kb --evaluate --set WORK-lead/future.tsv
    KBBench --kb WORK/operator/bots/kb --evaluate --set WORK-lead/future.tsv

usage: SWITCHBOARD=.build/debug/switchboard operator_split.py SETFOLDER WORK ROOT
(ROOT: the package root). Measured on FifthSet (session of 2026-12-07, 14th):
the operator's edits are FifthSet/operator-questions.patch."""
import datetime, os, shutil, sqlite3, subprocess, sys, time
if len(sys.argv) != 4:
    sys.exit(__doc__)
set_dir, work, root = [os.path.abspath(a) for a in sys.argv[1:4]]
if os.path.basename(set_dir) in ("SixthSet", "SeventhSet"):
    sys.exit(f"operator_split.py: {os.path.basename(set_dir)} is held out")
shutil.rmtree(work, ignore_errors=True); os.makedirs(work)
past, future = [], []
i = 0; u = 0
for line in open(os.path.join(set_dir, "messages.tsv"), encoding="utf-8"):
    if line.startswith("# ---"): i = 0; continue
    if line.startswith("#") or not line.strip(): continue
    if line.split("\t")[0] == "-":
        (past if u % 2 == 0 else future).append(line); u += 1
    else:
        (past if i % 2 == 0 else future).append(line); i += 1
lead = os.path.join(os.path.dirname(work), os.path.basename(work) + "-lead"); os.makedirs(lead, exist_ok=True)
open(os.path.join(lead, "future.tsv"), "w").writelines(future)
open(os.path.join(lead, "past.tsv"), "w").writelines(past)
op = os.path.join(work, "operator"); os.makedirs(op)
shutil.copytree(os.path.join(root, "config"), os.path.join(op, "config"))
shutil.copytree(os.path.join(root, "bots"), os.path.join(op, "bots"))
shutil.rmtree(os.path.join(op, "bots/kb"))
shutil.copytree(os.path.join(set_dir, "kb"), os.path.join(op, "bots/kb"))
config = os.path.join(op, "config/switchboard.json5")
t = open(config).read(); t2 = t.replace('path: "../var/switchboard.sqlite"', 'path: "../var/tickets.sqlite"'); assert t != t2; open(config, "w").write(t2)
binary = os.environ["SWITCHBOARD"]
subprocess.run([binary, "tickets", "list", "--config", config], check=True, capture_output=True)
db = sqlite3.connect(os.path.join(op, "var/tickets.sqlite"))
ref = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
now = time.time() - ref
solved = []
for index, line in enumerate(past):
    labels, language, kind, message = line.rstrip("\n").split("\t")[:4]
    at = now - 3600 - index * 1700
    db.execute("INSERT INTO tickets (number, version, created_at, updated_at, customer_name, contact_network, "
               "contact_nick, customer_group, severity, summary, description, language, state) "
               "VALUES (?, 1, ?, ?, 'Guest', 'irc', ?, 'none', 3, ?, ?, ?, 'closed')",
               (index + 1, at, at, f"guest{index}", message[:60], message, "de" if language == "de" else "en"))
    solved.append(f"#{index + 1}\t{'no article (answered by an agent by hand)' if labels == '-' else labels}\n")
db.commit(); db.close()
open(os.path.join(op, "solved-with.tsv"), "w").write("# ticket\tthe KB article(s) the agent used to solve it\n" + "".join(solved))
print(len(past), "past tickets,", len(future), "future messages")
