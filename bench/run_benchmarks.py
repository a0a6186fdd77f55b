#!/usr/bin/env python3
"""Measures ward against native Linux, gVisor (runsc) and PRoot.

Each benchmark runs under every available runner in the same invocation,
and the results are printed as a Markdown table with ratios to native and
to runsc. Run as root from the repository, after scripts/build:

    python3 bench/run_benchmarks.py --build build

Benchmarks:
  getpid      mean cost of one getpid syscall in a loop, in ns
  futex       mean round trip of a token between two threads through one
              futex word (two waits and two wakes), in ns
  true        wall time of /bin/true from start to exit, median, in ms
  python      wall time of `python3 -c pass`, median, in ms
  fork        fork, exit and wait, mean, in microseconds
  spawn       fork, exec of /bin/true and wait, mean, in microseconds
  thread      pthread_create and join, mean, in microseconds
  signal      a signal sent to itself and caught, mean, in microseconds

A second table compares `ward compat` (preflight, gap stacks and a text
report written to /dev/null) with `ward do` on `python3 -c pass` and on
tests/integration/compat_gaps.c, which hits six gaps.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GETPID_ITERATIONS = 200_000
# Iterations of each process_ops operation: enough for a stable mean, few
# enough that the slowest runner finishes in seconds.
PROCESS_OP_ITERATIONS = {"fork": 500, "spawn": 200, "thread": 2_000, "signal": 20_000}
FUTEX_ROUND_TRIPS = 20_000
START_RUNS = 20
TIMEOUT_SECONDS = 300


def runners(ward: Path) -> dict[str, list[str]]:
    """The command prefix of each available runner."""
    # ward gives the guest a default environment of its own, so --pass-env
    # of every variable gives it this script's, as the native runs get.
    passed = [flag for name in os.environ for flag in ("--pass-env", name)]
    found = {"native": [], "ward": [str(ward), "do", *passed, "--"]}
    if shutil.which("runsc"):
        found["runsc-ptrace"] = ["runsc", "--platform=ptrace", "--network=none", "do"]
    if shutil.which("proot"):
        found["proot"] = ["proot", "-r", "/"]
    return found


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS)


def getpid_ns(prefix: list[str], program: Path) -> float:
    output = run(prefix + [str(program), str(GETPID_ITERATIONS)]).stdout
    return float(output.strip())


def process_op_us(prefix: list[str], program: Path, operation: str) -> float:
    iterations = PROCESS_OP_ITERATIONS[operation]
    output = run(prefix + [str(program), operation, str(iterations)]).stdout
    return float(output.strip())


def futex_round_trip_ns(prefix: list[str], program: Path) -> float:
    output = run(prefix + [str(program), str(FUTEX_ROUND_TRIPS)]).stdout
    return float(output.strip())


def median_wall_ms(prefix: list[str], command: list[str]) -> float:
    samples = []
    run(prefix + command)  # warm the page cache and the runner
    for _ in range(START_RUNS):
        start = time.perf_counter()
        run(prefix + command)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def compat_overhead(ward: Path, compat_gaps_program: Path) -> dict[str, tuple[float, float]]:
    """Median wall times in ms under `ward do` and `ward compat`, by program."""
    passed = [flag for name in os.environ for flag in ("--pass-env", name)]
    do_prefix = [str(ward), "do", *passed, "--"]
    compat_prefix = [str(ward), "compat", "--output", os.devnull, *passed, "--"]
    programs = {
        "python3 -c pass": ["/usr/bin/python3", "-c", "pass"],
        "compat_gaps (6 gaps)": [str(compat_gaps_program)],
    }
    return {
        label: (median_wall_ms(do_prefix, command), median_wall_ms(compat_prefix, command))
        for label, command in programs.items()
    }


def print_compat_overhead(times: dict[str, tuple[float, float]]) -> None:
    print("\n| ward compat overhead (ms) | ward do | ward compat | compat / do |")
    print("|---|---|---|---|")
    for label, (do_ms, compat_ms) in times.items():
        print(f"| {label} | {do_ms:.1f} | {compat_ms:.1f} | {compat_ms / do_ms:.2f} |")


def machine_description() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cores = sum(1 for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("processor"))
    return f"{cpu}, {cores} cores, Linux {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="ward's build folder")
    args = parser.parse_args()

    build = Path(args.build)
    ward = build / "cli" / "ward"
    getpid_program = build / "bench" / "getpid_loop"
    process_program = build / "bench" / "process_ops"
    futex_program = build / "bench" / "futex_pingpong"
    compat_gaps_program = build / "tests" / "integration" / "compat_gaps"
    for needed in (ward, getpid_program, process_program, futex_program, compat_gaps_program):
        if not needed.exists():
            print(f"run_benchmarks: {needed} is missing; run scripts/build first",
                  file=sys.stderr)
            return 1

    benchmarks = {
        "getpid (ns per call)": lambda prefix: getpid_ns(prefix, getpid_program),
        "futex ping-pong (ns per round trip)": lambda prefix: futex_round_trip_ns(
            prefix, futex_program),
        "/bin/true (ms)": lambda prefix: median_wall_ms(prefix, ["/bin/true"]),
        "python3 -c pass (ms)": lambda prefix: median_wall_ms(
            prefix, ["/usr/bin/python3", "-c", "pass"]),
    }
    for operation, label in (("fork", "fork+exit+wait"), ("spawn", "fork+exec /bin/true+wait"),
                             ("thread", "thread create+join"),
                             ("signal", "signal to itself, caught")):
        benchmarks[f"{label} (µs)"] = (
            lambda prefix, operation=operation: process_op_us(prefix, process_program, operation))
    available = runners(ward)
    results: dict[str, dict[str, float]] = {}
    for name, measure in benchmarks.items():
        results[name] = {}
        for runner, prefix in available.items():
            try:
                results[name][runner] = measure(prefix)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                print(f"run_benchmarks: {name} under {runner} failed: {error}", file=sys.stderr)

    print(f"Machine: {machine_description()}\n")
    header = ["benchmark"] + list(available) + ["ward / native", "ward / runsc-ptrace"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, by_runner in results.items():
        cells = [name] + [f"{by_runner[r]:.1f}" if r in by_runner else "failed"
                          for r in available]
        ward_value = by_runner.get("ward")
        for baseline in ("native", "runsc-ptrace"):
            base = by_runner.get(baseline)
            cells.append(f"{ward_value / base:.2f}" if ward_value and base else "n/a")
        print("| " + " | ".join(cells) + " |")

    try:
        print_compat_overhead(compat_overhead(ward, compat_gaps_program))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"run_benchmarks: the ward compat overhead run failed: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
