"""Checks a labelled KB evaluation set (a folder with kb/ and messages.tsv) for
mistakes in the data and prints its counts; it does not search anything, so
running it tells nothing about how well the KB search does on the set.

Checks: every article's front matter (keys, id, url, language matching its
folder, file name starting with the id), translations naming an article of
the other language that names it back with the same number of tags; every
message line has four columns, known ids (or "-" exactly for kind
unanswerable), a language of de/en/mix and a known kind; a crosslang
message's relevant articles are all in the other language; no message text
twice; every article is relevant to at least one message.

Used by each set's check.py: check_set.main(folder, id_prefix, url_format).
"""

import collections
import pathlib
import re
import sys

KINDS = ["keywords", "sentence", "inflection", "compound", "umlaut", "typo", "crosslang", "unanswerable"]
KEYS = {"id", "title", "url", "tags", "language", "summary", "translation"}
errors = []


def error(message):
    errors.append(message)


def read_articles(folder, prefix, url):
    articles = {}
    for path in sorted((folder / "kb").rglob("*.md")):
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines[0] != "---" or "---" not in lines[1:]:
            error(f"{path.name}: front matter not delimited by ---")
            continue
        end = lines.index("---", 1)
        meta = {}
        for number, line in enumerate(lines[1:end], start=2):
            key, sep, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if not sep or key not in KEYS or not value:
                error(f"{path.name}:{number}: bad front matter line {line!r}")
            elif key in meta:
                error(f"{path.name}:{number}: {key} twice")
            meta[key] = value
        for key in ("id", "title", "url", "language"):
            if key not in meta:
                error(f"{path.name}: missing {key}")
        ident = meta.get("id", "")
        if not re.fullmatch(re.escape(prefix) + r"\d{3}", ident):
            error(f"{path.name}: id {ident!r} is not {prefix}nnn")
        if not path.name.startswith(ident + "-"):
            error(f"{path.name}: file name does not start with the id")
        if meta.get("url") != url.format(ident):
            error(f"{path.name}: url should be {url.format(ident)}")
        if meta.get("language") != path.parent.name:
            error(f"{path.name}: language {meta.get('language')!r} but folder {path.parent.name}")
        body = "\n".join(lines[end + 1:]).strip()
        if len(body) < 200 or "## " not in body:
            error(f"{path.name}: body too short or without a section")
        if ident.lower() in (a.lower() for a in articles):
            error(f"{path.name}: id {ident} twice")
        meta["tagcount"] = len([t for t in meta.get("tags", "").split(",") if t.strip()])
        articles[ident] = meta
    for ident, meta in articles.items():
        other = meta.get("translation")
        if other is None:
            continue
        partner = articles.get(other)
        if partner is None:
            error(f"{ident}: translation {other} does not exist")
        elif partner.get("translation") != ident:
            error(f"{ident}: translation {other} does not name it back")
        elif partner["language"] == meta["language"]:
            error(f"{ident}: translation {other} is in the same language")
        elif partner["tagcount"] != meta["tagcount"]:
            error(f"{ident}: {meta['tagcount']} tags but its translation {other} has {partner['tagcount']}")
    return articles


def read_messages(folder, articles):
    messages, texts = [], set()
    for number, line in enumerate((folder / "messages.tsv").read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) != 4:
            error(f"messages.tsv:{number}: {len(columns)} columns, expected 4")
            continue
        ids, language, kind, text = columns
        if language not in ("de", "en", "mix"):
            error(f"messages.tsv:{number}: language {language!r}")
        if kind not in KINDS:
            error(f"messages.tsv:{number}: kind {kind!r}")
        if (ids == "-") != (kind == "unanswerable"):
            error(f"messages.tsv:{number}: ids {ids!r} with kind {kind}")
        relevant = [] if ids == "-" else ids.split(",")
        for ident in relevant:
            if ident not in articles:
                error(f"messages.tsv:{number}: unknown id {ident!r}")
        if len(set(relevant)) != len(relevant):
            error(f"messages.tsv:{number}: an id twice")
        if kind == "crosslang":
            wrong = [i for i in relevant if articles.get(i, {}).get("language") == language]
            if language == "mix" or wrong:
                error(f"messages.tsv:{number}: crosslang but {wrong or 'mix'} is in the message's language")
        if text.strip() != text or not text:
            error(f"messages.tsv:{number}: text empty or with surrounding spaces")
        if text.lower() in texts:
            error(f"messages.tsv:{number}: text twice")
        texts.add(text.lower())
        messages.append((relevant, language, kind, text))
    return messages


def main(folder, prefix, url):
    """Checks the set in folder (a pathlib.Path): ids are prefix + three digits,
    urls url.format(id). Returns the exit status (1 on an error)."""
    articles = read_articles(folder, prefix, url)
    messages = read_messages(folder, articles)
    covered = {i for relevant, *_ in messages for i in relevant}
    for ident in sorted(set(articles) - covered):
        error(f"{ident}: no message names it as relevant")
    languages = collections.Counter(a["language"] for a in articles.values())
    pairs = sum(1 for a in articles.values() if "translation" in a) // 2
    print(f"articles: {len(articles)} (de {languages['de']}, en {languages['en']}); "
          f"{pairs} translated pairs, {len(articles) - 2 * pairs} in one language only")
    print(f"messages: {len(messages)}, answerable {sum(1 for m in messages if m[0])}")
    kinds = collections.Counter(m[2] for m in messages)
    print("per kind: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    langs = collections.Counter(m[1] for m in messages)
    print("per language: " + ", ".join(f"{k} {langs[k]}" for k in ("de", "en", "mix")))
    for message in errors:
        print("error:", message, file=sys.stderr)
    return 1 if errors else 0

