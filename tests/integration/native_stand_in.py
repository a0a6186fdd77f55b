#!/usr/bin/env python3
"""Stand in for `ward do` by running the program natively, to check the test cases themselves.

    run_integration.py --ward tests/integration/native_stand_in.py --case NAME

It accepts `do [flags] -- PROGRAM ARGS...`, ignores the flags, and reports a
program that cannot start, or a death by signal, with ward's exit statuses
and messages. Every case should pass with it except erofs_writes, because
natively the host root is writable.
"""

import errno
import os
import shutil
import signal
import subprocess
import sys


def main():
    arguments = sys.argv[1:]
    if not arguments or arguments[0] != "do" or "--" not in arguments:
        print("usage: native_stand_in.py do [FLAGS] -- PROGRAM ARGS...", file=sys.stderr)
        return 2
    command = arguments[arguments.index("--") + 1 :]
    if not command:
        print("native_stand_in.py: the program is missing after --", file=sys.stderr)
        return 2
    program = command[0]

    executable = program
    if "/" not in program:
        executable = shutil.which(program)
        if executable is None:
            print(f"ward: {program}: command not found", file=sys.stderr)
            return 127
    try:
        completed = subprocess.run([program, *command[1:]], executable=executable)
    except OSError as error:
        if error.errno == errno.ENOENT:
            print(f"ward: {program}: No such file or directory", file=sys.stderr)
            return 127
        if error.errno == errno.ENOEXEC:
            message = "cannot execute binary file: Exec format error"
            print(f"ward: {program}: {message}", file=sys.stderr)
            return 126
        print(f"ward: {program}: {os.strerror(error.errno)}", file=sys.stderr)
        return 126
    if completed.returncode < 0:
        number = -completed.returncode
        name = signal.Signals(number).name
        print(f"ward: {program} killed by signal {number} ({name})", file=sys.stderr)
        return 128 + number
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
