#!/usr/bin/env python3
"""Set the support level, note and handler of rows in syscalls/table.cc.

Usage: set_table_rows.py ROWS_FILE
ROWS_FILE has one line per syscall: name|full or partial|note|handler
A row keeps its number and argument formats; only its tail changes.
"""
import re
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "syscalls" / "table.cc"


def main() -> int:
    rows = {}
    for line in Path(sys.argv[1]).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, level, note, handler = (part.strip() for part in line.split("|"))
        rows[name] = (level, note, handler)

    text = TABLE.read_text()
    for name, (level, note, handler) in rows.items():
        pattern = re.compile(r'^    row\((\d+), "' + re.escape(name) + r'", (\{[^}]*\})[^\n]*\),\n',
                             re.MULTILINE)
        match = pattern.search(text)
        if not match:
            print(f"no row for {name}", file=sys.stderr)
            return 1
        support = {"full": "Support::kFull", "partial": "Support::kPartial"}[level]
        quoted = note.replace("\\", "\\\\").replace('"', '\\"')
        replacement = (f'    row({match.group(1)}, "{name}", {match.group(2)}, {support}, '
                       f'"{quoted}", {handler}),\n')
        text = text[:match.start()] + replacement + text[match.end():]
    TABLE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
