#!/usr/bin/env python3
"""Check that tests/PENDING.md equals the list of pending tests the build wrote.

    check_pending_list.py --generated BUILD/tests/PENDING.md --checked-in tests/PENDING.md

Exit status: 0 when the files are equal, 1 with a diff and the command that
updates tests/PENDING.md when they differ, 2 on bad usage.
"""

import argparse
import difflib
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generated", required=True, help="the list the build wrote")
    parser.add_argument("--checked-in", required=True, help="tests/PENDING.md in the source tree")
    options = parser.parse_args()

    generated_path = Path(options.generated)
    checked_in_path = Path(options.checked_in)
    if not generated_path.is_file():
        print(f"error: {generated_path} is missing; configure the build again")
        return 2
    generated = generated_path.read_text()
    checked_in = checked_in_path.read_text() if checked_in_path.is_file() else ""
    if generated == checked_in:
        print(f"PASS: {checked_in_path} lists every pending test")
        return 0

    print(f"FAIL: {checked_in_path} differs from the pending tests the build registered")
    sys.stdout.writelines(
        difflib.unified_diff(
            checked_in.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile=str(checked_in_path),
            tofile=str(generated_path),
        )
    )
    print(f"To update it: cp {generated_path} {checked_in_path}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
