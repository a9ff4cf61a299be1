#!/usr/bin/env python3
"""SQLite FTS5 (bm25) baseline for the KB evaluation sets.

Indexes a folder of KB articles (the format of bots/kb/README.md) in an
in-memory FTS5 table with the columns title, tags and body weighted 5/3/1,
runs every labelled message of a TSV file as a query (its words OR-ed), and
prints how often a relevant article is in the top 3 (and first) for the
answerable messages, overall, per language and per kind, and how often
anything at all is returned for the unanswerable ones. It is the yardstick
that `KBBench --evaluate` figures are compared with; it needs nothing but
Python 3's standard library (sqlite3 with FTS5).

Usage:
    scripts/kb-fts5-baseline.py KB_FOLDER MESSAGES_TSV [--tokenizer unicode61|porter|both] [--misses]

    scripts/kb-fts5-baseline.py bots/kb Tests/KBTests/Evaluation/problems.tsv
    scripts/kb-fts5-baseline.py Tests/KBTests/Evaluation/SecondSet/kb \\
        Tests/KBTests/Evaluation/SecondSet/messages.tsv

  --tokenizer  "unicode61" (default FTS5 tokenizer: case folding, diacritics
               removed), "porter" (Porter stemmer over unicode61), or "both"
               (the default: one report per tokenizer)
  --misses     also list every answerable message without a relevant article
               in the top 3, with what was returned

TSV: one message per line, "ids TAB language TAB text" (3 columns) or
"ids TAB language TAB kind TAB text" (4 columns); ids comma-separated, or "-"
when no article answers the message. Lines starting with "#" and blank lines
are skipped. A 3-column file is reported with kind "-".
"""

import argparse
import collections
import pathlib
import re
import sqlite3
import sys

WEIGHTS = (5.0, 3.0, 1.0)  # title, tags, body
TOP = 3
TOKENIZERS = {"unicode61": "unicode61", "porter": "porter unicode61"}
FRONT_MATTER_KEYS = {"id", "title", "url", "tags", "language", "summary", "translation"}


class InputError(Exception):
    """A file that cannot be used; the message names the file and line."""


def read_articles(folder):
    """Every article below `folder`: (id, title, tags, body). Skips README.md and
    names starting with "." or "_", as the KB loader does."""
    articles = []
    paths = sorted(p for p in pathlib.Path(folder).rglob("*.md")
                   if p.name != "README.md" and not p.name.startswith((".", "_")))
    if not paths:
        raise InputError(f"{folder}: no articles (*.md) found")
    seen = set()
    for path in paths:
        lines = path.read_text(encoding="utf-8").split("\n")
        if not lines or lines[0].strip() != "---":
            raise InputError(f"{path}:1: front matter must start with ---")
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            raise InputError(f"{path}: front matter is not closed with ---") from None
        meta = {}
        for number, line in enumerate(lines[1:end], start=2):
            if not line.strip() or line.strip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if not sep or key not in FRONT_MATTER_KEYS:
                raise InputError(f"{path}:{number}: expected one of {sorted(FRONT_MATTER_KEYS)} and a value, got {line!r}")
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            meta[key] = value
        for required in ("id", "title"):
            if not meta.get(required):
                raise InputError(f"{path}: missing {required}")
        if meta["id"].lower() in seen:
            raise InputError(f"{path}: duplicate id {meta['id']}")
        seen.add(meta["id"].lower())
        body = "\n".join(lines[end + 1:])
        if meta.get("summary"):
            body = meta["summary"] + "\n" + body
        articles.append((meta["id"], meta["title"], meta.get("tags", ""), body))
    return articles


def read_messages(path):
    """The labelled messages: (ids or empty set, language, kind, text)."""
    messages = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) == 3:
                ids, language, text = fields
                kind = "-"
            elif len(fields) == 4:
                ids, language, kind, text = fields
            else:
                raise InputError(f"{path}:{number}: expected 3 or 4 tab-separated columns, got {len(fields)}")
            relevant = set() if ids.strip() == "-" else {i.strip().lower() for i in ids.split(",") if i.strip()}
            if not relevant and ids.strip() != "-":
                raise InputError(f"{path}:{number}: no article ids (write - for none)")
            messages.append((relevant, language.strip(), kind.strip(), text.strip()))
    if not messages:
        raise InputError(f"{path}: no messages")
    return messages


def build_index(articles, tokenizer):
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE kb USING fts5(id UNINDEXED, title, tags, body, tokenize = '{tokenizer}')")
    db.executemany("INSERT INTO kb (id, title, tags, body) VALUES (?, ?, ?, ?)", articles)
    return db


def search(db, text):
    """The ids of the best TOP articles for `text` (its words OR-ed), best first."""
    words = re.findall(r"\w+", text)
    if not words:
        return []
    query = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    rows = db.execute(
        "SELECT id FROM kb WHERE kb MATCH ? ORDER BY bm25(kb, 0.0, ?, ?, ?) LIMIT ?",
        (query, *WEIGHTS, TOP),
    ).fetchall()
    return [row[0] for row in rows]


def rate(hits, total):
    return f"{hits / total:.2f} ({hits}/{total})" if total else "-"


def report(name, db, messages, show_misses):
    top3 = collections.Counter()
    top1 = collections.Counter()
    count = collections.Counter()
    unanswerable = offered = 0
    misses = []
    for relevant, language, kind, text in messages:
        found = search(db, text)
        if not relevant:
            unanswerable += 1
            offered += bool(found)
            continue
        hit3 = any(i.lower() in relevant for i in found)
        hit1 = bool(found) and found[0].lower() in relevant
        for group in ("all", "language " + language, "kind " + kind):
            count[group] += 1
            top3[group] += hit3
            top1[group] += hit1
        if not hit3:
            misses.append((text, sorted(relevant), found))
    print(f"== FTS5 bm25, tokenizer {name}, weights title/tags/body {WEIGHTS[0]:g}/{WEIGHTS[1]:g}/{WEIGHTS[2]:g}")
    print(f"{'answerable messages':28} {'top-3':>16} {'top-1':>16}")
    for group in ["all"] + sorted(g for g in count if g.startswith("language ")) + sorted(g for g in count if g.startswith("kind ")):
        print(f"  {group:26} {rate(top3[group], count[group]):>16} {rate(top1[group], count[group]):>16}")
    print(f"unanswerable messages given any article: {rate(offered, unanswerable)}")
    if show_misses:
        print("misses (no relevant article in the top 3):")
        for text, relevant, found in misses:
            print(f"  {text!r}: want {','.join(relevant)}, got {','.join(found) or 'nothing'}")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kb", help="folder of KB articles")
    parser.add_argument("messages", help="labelled messages (TSV, 3 or 4 columns)")
    parser.add_argument("--tokenizer", choices=["unicode61", "porter", "both"], default="both")
    parser.add_argument("--misses", action="store_true", help="list the answerable messages missed in the top 3")
    args = parser.parse_args()
    try:
        articles = read_articles(args.kb)
        messages = read_messages(args.messages)
    except (InputError, OSError, UnicodeDecodeError) as error:
        print(f"kb-fts5-baseline: {error}", file=sys.stderr)
        return 2
    known = {a[0].lower() for a in articles}
    unknown = sorted({i for relevant, *_ in messages for i in relevant} - known)
    if unknown:
        print(f"kb-fts5-baseline: {args.messages}: ids not in {args.kb}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    answerable = sum(1 for m in messages if m[0])
    print(f"{args.kb}: {len(articles)} articles; {args.messages}: {len(messages)} messages "
          f"({answerable} answerable, {len(messages) - answerable} unanswerable)\n")
    names = ["unicode61", "porter"] if args.tokenizer == "both" else [args.tokenizer]
    for name in names:
        report(name, build_index(articles, TOKENIZERS[name]), messages, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
