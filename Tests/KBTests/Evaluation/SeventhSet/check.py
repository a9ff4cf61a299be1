#!/usr/bin/env python3
# Checks the seventh KB evaluation set (this folder) for mistakes in the data and
# prints its counts, with ../check_set.py (which says what is checked). It does
# not search anything, so running it tells nothing about how well the KB search
# does on the set.
#
# Usage: python3 Tests/KBTests/Evaluation/SeventhSet/check.py   (exit status 1 on an error)

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ beside the sets
sys.path.insert(0, str(HERE.parent))
import check_set  # noqa: E402

if __name__ == "__main__":
    sys.exit(check_set.main(HERE, "CV-7", "https://help.curavia.example/kb/{}"))
