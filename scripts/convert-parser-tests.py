#!/usr/bin/env python3
"""Convert the irc-parser-tests YAML vectors to JSON for the Swift test suite.

The vectors come from the PyPI package `irc-parser-tests` 0.0.4 (CC0, by
Daniel Oaks; see Tests/IRCTests/Vectors/LICENSE). Swift has no YAML parser, so
this script writes a `.json` file next to every `.yaml` file; the tests read
the JSON through a path relative to their own `#filePath`.

The conversion keeps the data as it is, with one change of shape: every
`tags` mapping becomes a list of `[key, value]` pairs, because a JSON object
decoded by Foundation loses its key order and the tests compare tag order.
Strings are written with `ensure_ascii=True`, so control characters and
non-ASCII text survive any editor as `\\uXXXX` escapes.

Usage: scripts/convert-parser-tests.py [VECTOR_DIR]
       (default: Tests/IRCTests/Vectors next to this script's repository)
       --check   fail if a JSON file is missing or differs from a fresh
                 conversion, write nothing.
"""
import json
import pathlib
import sys

import yaml

FILES = ["msg-split", "msg-join", "userhost-split", "mask-match", "validate-hostname"]


def reshape(node):
    """Turn every `tags` mapping into an ordered list of [key, value] pairs."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "tags" and isinstance(value, dict):
                out[key] = [[str(k), "" if v is None else str(v)] for k, v in value.items()]
            else:
                out[key] = reshape(value)
        return out
    if isinstance(node, list):
        return [reshape(item) for item in node]
    return node


def convert(yaml_path: pathlib.Path) -> str:
    with yaml_path.open("r", encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise SystemExit(f"{yaml_path}: expected a mapping with a 'tests' list")
    data = reshape(data)
    data["source"] = f"irc-parser-tests 0.0.4 {yaml_path.name} (CC0), converted by scripts/convert-parser-tests.py"
    data["count"] = len(data["tests"])
    return json.dumps(data, ensure_ascii=True, indent=2, sort_keys=False) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = pathlib.Path(__file__).resolve().parent.parent
    vector_dir = pathlib.Path(args[0]) if args else root / "Tests" / "IRCTests" / "Vectors"
    failed = False
    for name in FILES:
        yaml_path = vector_dir / f"{name}.yaml"
        json_path = vector_dir / f"{name}.json"
        text = convert(yaml_path)
        count = json.loads(text)["count"]
        if check:
            if not json_path.exists() or json_path.read_text(encoding="utf-8") != text:
                print(f"{json_path}: missing or out of date", file=sys.stderr)
                failed = True
            continue
        json_path.write_text(text, encoding="utf-8")
        print(f"{json_path.name}: {count} tests")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
