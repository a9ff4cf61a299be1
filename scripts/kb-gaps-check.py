#!/usr/bin/env python3
"""How often `switchboard kb gaps` points an operator at a right article.

Stores a labelled set's messages (Tests/KBTests/Evaluation/<Set>/messages.tsv)
as tickets of a fresh SQLite store, with the set's articles as the KB and the
shipped bot definitions otherwise, runs `switchboard kb gaps` on them and
compares where each answerable message offered nothing lands with its labels:
under a right article (the group's header), a right article on its
`also near` line, or near no article; and where each message offered an
article lands in the section "Offered, and a ticket was opened anyway":
how many of those groups' messages the first article answers, another one
offered, none of them, or no article at all. Prints only figures, no messages.

usage: scripts/kb-gaps-check.py SETFOLDER [WORKDIR]   (run from the package root
       after `swift build`; SWITCHBOARD=path picks another binary, e.g. a release one)
e.g.   scripts/kb-gaps-check.py Tests/KBTests/Evaluation/FifthSet

The held-out sets (SixthSet, SeventhSet) are refused, as by halves.py.
"""
import datetime
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

if len(sys.argv) not in (2, 3):
    sys.exit(__doc__)
set_dir = os.path.abspath(sys.argv[1])
if os.path.basename(os.path.normpath(set_dir)) in ("SixthSet", "SeventhSet"):
    sys.exit(f"kb-gaps-check.py: {os.path.basename(set_dir)} is held out")
work = os.path.abspath(sys.argv[2]) if len(sys.argv) == 3 else tempfile.mkdtemp(prefix="kb-gaps-")
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.environ.get("SWITCHBOARD", os.path.join(root, ".build/debug/switchboard"))

shutil.rmtree(work, ignore_errors=True)
shutil.copytree(os.path.join(root, "config"), os.path.join(work, "config"))
shutil.copytree(os.path.join(root, "bots"), os.path.join(work, "bots"))
shutil.copytree(os.path.join(set_dir, "kb"), os.path.join(work, "bots/setkb"))
config = os.path.join(work, "config/switchboard.json5")
text = open(config).read()
changed = text.replace('path: "../var/switchboard.sqlite"', 'path: "../var/gaps.sqlite"')
assert changed != text, "config/switchboard.json5 names another store"
open(config, "w").write(changed)
definition = os.path.join(work, "bots/kb.json5")
text = open(definition).read()
changed = text.replace('articles: "kb"', 'articles: "setkb"')
assert changed != text, "bots/kb.json5 names another article folder"
open(definition, "w").write(changed)
# `tickets list` makes the store as the gateway would.
subprocess.run([binary, "tickets", "list", "--config", config], check=True, capture_output=True)

messages = []
for line in open(os.path.join(set_dir, "messages.tsv"), encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    labels, language, kind, message = line.rstrip("\n").split("\t")[:4]
    messages.append((set() if labels == "-" else set(labels.split(",")), language, kind, message))
db = sqlite3.connect(os.path.join(work, "var/gaps.sqlite"))
reference = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc).timestamp()  # Foundation's reference date
now = time.time() - reference
for index, (_, language, _, message) in enumerate(messages):
    at = now - 3600 - index * 60
    db.execute("INSERT INTO tickets (number, version, created_at, updated_at, customer_name, contact_network, "
               "contact_nick, customer_group, severity, summary, description, language, state) "
               "VALUES (?, 1, ?, ?, 'Guest', 'check', ?, 'none', 3, ?, ?, ?, 'new')",
               (index + 1, at, at, f"guest{index}", message[:60], message, "de" if language == "de" else "en"))
db.commit()
db.close()

started = time.time()
run = subprocess.run([binary, "kb", "gaps", "--limit", "1000000", "--config", config], capture_output=True, text=True)
elapsed = time.time() - started
if run.returncode != 0:
    sys.exit(run.stdout + run.stderr)
group, where, offered_where, also, last = None, {}, {}, {}, []
into = where  # the section being read: offered nothing, then offered anyway
for line in run.stdout.split("\n"):
    if line.startswith("        also near ") or line.startswith("        also offered "):
        for number in last:
            also[number] = set(re.findall(r'(?:near |offered |, )(\S+) [0-9]\.[0-9][0-9] "', line))
        continue
    if line.startswith("Offered, and a ticket was opened anyway"):
        into, group = offered_where, None
        continue
    header = re.match(r"^(\S+)  .*  confidence [0-9.–]+, \d+ tickets?$", line)
    if header:
        group = header.group(1)
        continue
    if line.startswith("Near no article"):
        group = "-"
        continue
    described = re.match(r'^  (?:[0-9.]+  )?#(\d+)  .*"  \(also (.*)\)$', line) or re.match(r"^  (?:[0-9.]+  )?#(\d+)  ", line)
    if described and group:
        last = [int(described.group(1))]
        if described.re.groups == 2:
            last += [int(n) for n in re.findall(r"#(\d+) \d{4}-", described.group(2))]
        for number in last:
            into[number] = group

print(run.stdout.split("\n\n")[0])
print(f"{len(messages)} tickets in {elapsed:.1f} s (KB load included)")
missed = [(n, messages[n - 1]) for n in where if messages[n - 1][0]]
right = sum(1 for n, m in missed if where[n] in m[0])
seen = sum(1 for n, m in missed if where[n] in m[0] or also.get(n, set()) & m[0])
nowhere = sum(1 for n, m in missed if where[n] == "-")
share = lambda k: k / max(1, len(missed))
print(f"answerable, offered nothing: {len(missed)}")
print(f"  under a right article: {right} ({share(right):.2f}); with its 'also near' line: {seen} ({share(seen):.2f}); "
      f"near no article: {nowhere}")
unanswerable = [n for n, m in enumerate(messages, 1) if not m[0]]
print(f"unanswerable: {len(unanswerable)}, offered nothing: {sum(1 for n in unanswerable if n in where)}, "
      f"of those near no article: {sum(1 for n in unanswerable if where.get(n) == '-')}")
offered = [(n, messages[n - 1][0]) for n in offered_where]
first_right = sum(1 for n, labels in offered if offered_where[n] in labels)
other_right = sum(1 for n, labels in offered if offered_where[n] not in labels and also.get(n, set()) & labels)
unanswered = sum(1 for _, labels in offered if not labels)
print(f"offered an article (the section 'Offered, and a ticket was opened anyway'): {len(offered)}")
print(f"  the first offered answers: {first_right}; another offered does: {other_right}; "
      f"none offered does: {len(offered) - first_right - other_right - unanswered}; no article answers: {unanswered}")
