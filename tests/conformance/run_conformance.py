#!/usr/bin/env python3
"""Run one conformance program natively and under `ward do`, and compare the two runs.

The native run is the oracle. The program runs twice natively, to prove that
its output is deterministic, then once under ward, each time with the same
argv, environment and working directory (a fresh temporary directory). The
test passes when ward's stdout and normalised exit status equal the native
ones exactly. On a mismatch it prints a unified diff and both statuses.

Every run starts in a new session. A run that times out, or that leaves a
process of its session alive, fails the test (see guarded_run.py).

Exit status: 0 on a match, 1 on a mismatch or a broken run, 2 on bad usage.
"""

import argparse
import difflib
import os
import shutil
import sys
import tempfile
from pathlib import Path

# Keep the source tree free of __pycache__ folders.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from guarded_run import (  # noqa: E402
    install_sigterm_handler,
    native_status,
    run_guarded,
    ward_environment_flags,
    ward_status,
)

# Per-run timeouts, chosen so that two native runs and one ward run fit in
# the 60 s CTest timeout with room for the leak checks.
NATIVE_TIMEOUT_SECONDS = 8
WARD_TIMEOUT_SECONDS = 35

# The same environment for every run, so that a program may print it.
FIXED_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/",
    "LANG": "C",
    "LC_ALL": "C",
    "TZ": "UTC",
    "WARD_CONFORMANCE": "1",
}

# The umask both runs inherit: the native program from this process, the
# guest from ward.
FIXED_UMASK = 0o022


def parse_arguments():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ward", help="path of the ward binary; required unless --native-only")
    parser.add_argument("--program", required=True, help="path of the conformance program")
    parser.add_argument(
        "--expect-status",
        default="exit 0",
        help="native status the program must end with, as 'exit N' or 'signal N' (default: exit 0)",
    )
    parser.add_argument(
        "--native-only",
        action="store_true",
        help="only check that the program passes and is deterministic natively",
    )
    parser.add_argument(
        "--ward-flag",
        action="append",
        default=[],
        help="flag to pass to `ward do`, such as --strace; may be repeated",
    )
    parser.add_argument(
        "arguments",
        nargs="*",
        help="arguments for the program, after --; {cwd} becomes the runs' working directory",
    )
    options = parser.parse_args()
    if not options.native_only and not options.ward:
        parser.error("--ward is required unless --native-only is given")
    return options


def decode(data):
    return data.decode(errors="backslashreplace")


def print_output(title, data):
    text = decode(data)
    print(f"--- {title} ({len(data)} bytes) ---")
    print(text, end="" if text.endswith("\n") or not text else "\n")


def first_difference(expected, actual, expected_name="native", actual_name="ward"):
    """Return a one-line description of the first line where two outputs differ."""
    expected_lines = decode(expected).splitlines()
    actual_lines = decode(actual).splitlines()
    for number, (want, got) in enumerate(zip(expected_lines, actual_lines), start=1):
        if want != got:
            return f"line {number}: {expected_name} {want!r}, {actual_name} {got!r}"
    common = min(len(expected_lines), len(actual_lines))
    if len(expected_lines) > common:
        extra = expected_lines[common]
        return f"line {common + 1}: {expected_name} {extra!r}, {actual_name} has no more lines"
    if len(actual_lines) > common:
        extra = actual_lines[common]
        return f"line {common + 1}: {expected_name} has no more lines, {actual_name} {extra!r}"
    return "the outputs differ only in line endings"


def report_broken_run(label, result):
    print(f"FAIL: the {label} run is unusable:")
    for reason in result.problems():
        print(f"  {reason}")
    print_output(f"{label} stdout", result.stdout)
    print_output(f"{label} stderr", result.stderr)


def main():
    options = parse_arguments()
    install_sigterm_handler()
    os.umask(FIXED_UMASK)
    program = str(Path(options.program).resolve())
    if not os.access(program, os.X_OK):
        print(f"error: the program {program} is missing or not executable; build it first")
        return 2
    if options.ward:
        # The runs start in a temporary directory, so a relative path would break.
        options.ward = str(Path(options.ward).resolve())
        if not options.native_only and not os.access(options.ward, os.X_OK):
            print(f"error: the ward binary {options.ward} is missing or not executable; "
                  "build it first")
            return 2
    work_directory = tempfile.mkdtemp(prefix="ward-conformance-")
    arguments = [argument.replace("{cwd}", work_directory) for argument in options.arguments]
    argv = [program, *arguments]
    try:
        return compare_runs(options, argv, work_directory)
    finally:
        shutil.rmtree(work_directory, ignore_errors=True)


def compare_runs(options, argv, work_directory):
    native_runs = []
    for attempt in (1, 2):
        result = run_guarded(
            argv, cwd=work_directory, env=FIXED_ENVIRONMENT, timeout_seconds=NATIVE_TIMEOUT_SECONDS
        )
        if result.problems():
            report_broken_run(f"native #{attempt}", result)
            return 1
        native_runs.append(result)
    native = native_runs[0]
    status = native_status(native.returncode)

    if status != options.expect_status:
        print(f"FAIL: the program fails natively: status {status}, "
              f"expected {options.expect_status}")
        print_output("native stdout", native.stdout)
        print_output("native stderr", native.stderr)
        return 1
    if native_runs[1].stdout != native.stdout or native_status(native_runs[1].returncode) != status:
        print("FAIL: the program is not deterministic natively, so it cannot be an oracle:")
        difference = first_difference(
            native.stdout, native_runs[1].stdout, "first run", "second run"
        )
        print(f"  {difference}")
        return 1
    if options.native_only:
        print(f"PASS natively: {status}, {len(native.stdout.splitlines())} lines, deterministic")
        return 0

    ward_argv = [
        options.ward,
        "do",
        *ward_environment_flags(FIXED_ENVIRONMENT),
        *options.ward_flag,
        "--",
        *argv,
    ]
    sandboxed = run_guarded(
        ward_argv, cwd=work_directory, env=FIXED_ENVIRONMENT, timeout_seconds=WARD_TIMEOUT_SECONDS
    )
    if sandboxed.problems():
        report_broken_run("ward", sandboxed)
        return 1
    sandboxed_status = ward_status(sandboxed.returncode, sandboxed.stderr)

    if sandboxed.stdout == native.stdout and sandboxed_status == status:
        print(f"PASS: {status}, {len(native.stdout.splitlines())} lines equal")
        return 0

    print(f"FAIL: ward differs from native ({' '.join(ward_argv)})")
    print(f"  native status: {status}")
    print(f"  ward status:   {sandboxed_status} (ward exit code {sandboxed.returncode})")
    if sandboxed.stdout != native.stdout:
        print(f"  first difference: {first_difference(native.stdout, sandboxed.stdout)}")
        diff = difflib.unified_diff(
            decode(native.stdout).splitlines(keepends=True),
            decode(sandboxed.stdout).splitlines(keepends=True),
            fromfile="native",
            tofile="ward",
        )
        sys.stdout.writelines(diff)
    print_output("ward stderr", sandboxed.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
