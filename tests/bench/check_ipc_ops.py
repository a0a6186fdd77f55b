#!/usr/bin/env python3
"""Run one mode of bench/ipc_ops.c with a tiny size and check what it prints.

The check is for function, not speed: the program must exit 0 and print one
positive number on stdout. With --allow-unsupported it may instead exit with
status 3 and name the failed step and its errno on stderr, which is how it
reports a system without AF_INET sockets. With --expect-usage-error it must
exit with status 2 and print its usage.

The run starts in a new session with a timeout, and a process of that
session left alive after it exits fails the check (see guarded_run.py).

Exit status: 0 when the run is as expected, 1 when it is not, 2 on bad usage.
"""

import argparse
import math
import os
import re
import sys
import tempfile
from pathlib import Path

# Keep the source tree free of __pycache__ folders.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))
from guarded_run import install_sigterm_handler, run_guarded  # noqa: E402

RUN_TIMEOUT_SECONDS = 45
UNSUPPORTED_STATUS = 3
USAGE_STATUS = 2
FAILED_STEP = re.compile(r"^ipc_ops: .* failed: .* \(errno \d+\)$", re.MULTILINE)


def parse_arguments():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ward", help="run the program under this ward binary's `ward do`")
    parser.add_argument("--program", required=True, help="path of the ipc_ops program")
    expectation = parser.add_mutually_exclusive_group()
    expectation.add_argument(
        "--allow-unsupported",
        action="store_true",
        help="also accept exit status 3 with the failed step on stderr",
    )
    expectation.add_argument(
        "--expect-usage-error", action="store_true", help="expect exit status 2 and the usage"
    )
    parser.add_argument("arguments", nargs="+", help="the mode and its sizes")
    return parser.parse_args()


def check_number(stdout):
    """Return the problem with stdout as one positive number, or None."""
    lines = stdout.splitlines()
    if len(lines) != 1:
        return f"expected one line on stdout, got {len(lines)}"
    try:
        value = float(lines[0])
    except ValueError:
        return f"expected a number on stdout, got {lines[0]!r}"
    if not math.isfinite(value) or value <= 0:
        return f"expected a positive number on stdout, got {value}"
    return None


def check_run(options, result):
    """Return the problem with the run, or None when it is as expected."""
    stdout = result.stdout.decode(errors="backslashreplace")
    stderr = result.stderr.decode(errors="backslashreplace")
    if options.expect_usage_error:
        if result.returncode != USAGE_STATUS or not stderr.startswith("usage:"):
            return f"expected exit status {USAGE_STATUS} and the usage, got {result.returncode}"
        return None
    if options.allow_unsupported and result.returncode == UNSUPPORTED_STATUS:
        if stdout:
            return "exit status 3, but stdout is not empty"
        if not FAILED_STEP.search(stderr):
            return "exit status 3, but stderr does not name the failed step and its errno"
        return None
    if result.returncode != 0:
        return f"expected exit status 0, got {result.returncode}"
    return check_number(stdout)


def main():
    options = parse_arguments()
    install_sigterm_handler()
    argv = [str(Path(options.program).resolve()), *options.arguments]
    if options.ward:
        argv = [str(Path(options.ward).resolve()), "do", "--", *argv]

    with tempfile.TemporaryDirectory(prefix="ward-ipc-ops-") as work_directory:
        result = run_guarded(
            argv, cwd=work_directory, env=dict(os.environ), timeout_seconds=RUN_TIMEOUT_SECONDS
        )
    problems = result.problems()
    problem = check_run(options, result)
    if problem:
        problems.append(problem)
    if problems:
        print(f"FAIL: {' '.join(argv)}")
        for reason in problems:
            print(f"  {reason}")
        print(f"  stdout: {result.stdout.decode(errors='backslashreplace')!r}")
        print(f"  stderr: {result.stderr.decode(errors='backslashreplace')!r}")
        return 1
    print(f"PASS: {' '.join(argv)} exited {result.returncode}: "
          f"{(result.stdout or result.stderr).decode(errors='backslashreplace').strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
