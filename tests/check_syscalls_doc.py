#!/usr/bin/env python3
"""Check that docs/syscalls.md is what `ward syscalls --format markdown` prints.

Usage: check_syscalls_doc.py WARD DOC. Exit status 0 when they match, 1 with a
unified diff when they differ.
"""

import difflib
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ward, doc = sys.argv[1], sys.argv[2]
    printed = subprocess.run(
        [ward, "syscalls", "--format", "markdown"], check=True, capture_output=True, text=True
    ).stdout
    with open(doc, encoding="utf-8") as stored:
        written = stored.read()
    if printed == written:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            written.splitlines(keepends=True),
            printed.splitlines(keepends=True),
            fromfile=doc,
            tofile="ward syscalls --format markdown",
        )
    )
    print(f"\n{doc} is out of date; regenerate it with: ward syscalls --format markdown > {doc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
