#!/usr/bin/env python3
"""Measures ward against native Linux, gVisor (runsc) and PRoot.

Each benchmark runs under every available runner in the same invocation,
and the results are printed as a Markdown table with ratios to native and
to runsc. Run as root from the repository, after scripts/build:

    python3 bench/run_benchmarks.py --build build

--only GROUP runs one group of rows (process, fs, ipc or compat), and may
be repeated:

    python3 bench/run_benchmarks.py --build build --only ipc

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
  fs-stat     stat of 1,000 paths of a generated tree, 100 times over,
              mean per call, in microseconds
  fs-read     open, read and close of 10,000 small files, mean per file,
              in microseconds
  untar       tar -xf of a generated 53 MB tarball of 2,000 files into a
              new folder under /tmp, median wall time, in ms
  find-usr    find /usr with its output to /dev/null, wall time, in ms
  pipe        1 GiB through a pipe from a child to its parent in 64 KiB
              writes, in MiB/s
  unix        1-byte round trips between a parent and a child over an
              AF_UNIX socketpair, mean of 20,000, in microseconds
  tcp         256 MiB over a TCP connection to 127.0.0.1 in 64 KiB writes,
              in MiB/s, and 1-byte round trips over one, mean of 20,000, in
              microseconds; a runner without AF_INET sockets gets
              "unsupported" in these cells
  epoll       epoll_wait on a set of 1,000 pipes of which one is readable,
              mean of 20,000 calls, in microseconds

A second table compares `ward compat` (preflight, gap stacks and a text
report written to /dev/null) with `ward do` on `python3 -c pass` and on
tests/integration/compat_gaps.c, which hits six gaps.
"""
import argparse
import io
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

GETPID_ITERATIONS = 200_000
# Iterations of each process_ops operation: enough for a stable mean, few
# enough that the slowest runner finishes in seconds.
PROCESS_OP_ITERATIONS = {"fork": 500, "spawn": 200, "thread": 2_000, "signal": 20_000}
FUTEX_ROUND_TRIPS = 20_000
START_RUNS = 20
TIMEOUT_SECONDS = 300
# File system benchmarks. One find of the 170,000 entries of /usr takes
# about 15 s under runsc, so find runs once per runner.
FS_TREE_FILES = 10_000
FS_STAT_FILES = 1_000
FS_STAT_ROUNDS = 100
UNTAR_FILES = 2_000
UNTAR_RUNS = 3
FIND_RUNS = 1
# Inter-process communication benchmarks (bench/ipc_ops.c).
PIPE_STREAM_MIB = 1024
TCP_STREAM_MIB = 256
PINGPONG_ROUND_TRIPS = 20_000
EPOLL_WAIT_ITERATIONS = 20_000
EPOLL_WAIT_FDS = 1_000
# The exit status of bench/ipc_ops.c when the runner lacks a feature that
# the mode needs, such as AF_INET sockets.
UNSUPPORTED_STATUS = 3


# The groups of rows that --only selects.
GROUPS = ("process", "fs", "ipc", "compat")


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


def measure_rows(benchmarks: dict, available: dict[str, list[str]]) -> dict[str, dict]:
    """Measure each benchmark under every runner.

    A cell contains the measured number, or "unsupported" when the program
    exited with UNSUPPORTED_STATUS. A run that fails otherwise leaves its
    cell out and is reported on stderr.
    """
    results: dict[str, dict] = {}
    for name, measure in benchmarks.items():
        results[name] = {}
        for runner, prefix in available.items():
            try:
                results[name][runner] = measure(prefix)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                stderr = error.stderr.strip() if isinstance(error.stderr, str) else ""
                if getattr(error, "returncode", None) == UNSUPPORTED_STATUS:
                    results[name][runner] = "unsupported"
                    print(f"run_benchmarks: {name} is unsupported under {runner}: {stderr}",
                          file=sys.stderr)
                    continue
                print(f"run_benchmarks: {name} under {runner} failed: {error} {stderr}",
                      file=sys.stderr)
    return results


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


# File system benchmarks. The trees are generated in a scratch folder under
# /tmp that every runner can read, because ward, runsc do and PRoot all show
# the host's root to the guest.

def make_small_file_tree(root: Path) -> None:
    """Write FS_TREE_FILES files of 64 to 4,096 bytes as root/dDDD/fFFF.

    bench/fs_ops.c builds the same names: 100 files to a folder.
    """
    content = random.Random(0).randbytes(4096)
    for index in range(FS_TREE_FILES):
        folder = root / f"d{index // 100:03d}"
        if index % 100 == 0:
            folder.mkdir(parents=True)
        size = 64 + (index * 37) % 4033
        (folder / f"f{index % 100:03d}").write_bytes(content[:size])


def make_tarball(path: Path) -> int:
    """Write an uncompressed tarball of UNTAR_FILES files under tree/, return its size in bytes.

    Every 20th file is 400 KiB and the others 512 bytes to 10.5 KiB, 53 MB
    (51 MiB) in all. Names, sizes, contents, owners and times are fixed, so
    every run extracts the same bytes.
    """
    content = random.Random(1).randbytes(400 * 1024)
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as archive:
        for index in range(UNTAR_FILES):
            if index % 100 == 0:
                folder = tarfile.TarInfo(f"tree/d{index // 100:02d}")
                folder.type = tarfile.DIRTYPE
                folder.mode = 0o755
                folder.mtime = 1_700_000_000
                archive.addfile(folder)
            size = 400 * 1024 if index % 20 == 0 else 512 + (index * 7919) % 10240
            member = tarfile.TarInfo(f"tree/d{index // 100:02d}/f{index:04d}")
            member.size = size
            member.mode = 0o644
            member.mtime = 1_700_000_000
            archive.addfile(member, io.BytesIO(content[:size]))
    return path.stat().st_size


def fs_op_us(prefix: list[str], program: Path, operation: str, root: Path,
             files: int, rounds: int) -> float:
    output = run(prefix + [str(program), operation, str(root), str(files), str(rounds)]).stdout
    return float(output.strip())


def untar_ms(prefix: list[str], tarball: Path, scratch: Path) -> float:
    """Median wall time of extracting `tarball` into a new empty folder.

    The folder is made on the host before each run. Under ward and runsc
    the writes go to the sandbox's in-memory overlay. Natively and under
    PRoot they go to the host. Either way the folder is removed after the run.
    """
    samples = []
    for attempt in range(UNTAR_RUNS):
        destination = scratch / f"untar-{attempt}"
        destination.mkdir()
        try:
            start = time.perf_counter()
            run(prefix + ["/usr/bin/tar", "-xf", str(tarball), "-C", str(destination)])
            samples.append((time.perf_counter() - start) * 1000)
        finally:
            shutil.rmtree(destination)
    return statistics.median(samples)


def find_usr_ms(prefix: list[str]) -> float:
    samples = []
    for _ in range(FIND_RUNS):
        start = time.perf_counter()
        subprocess.run(prefix + ["/usr/bin/find", "/usr"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=TIMEOUT_SECONDS)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure_filesystem(available: dict[str, list[str]], program: Path) -> dict[str, dict]:
    """Measure each file system benchmark under every runner."""
    with tempfile.TemporaryDirectory(prefix="ward-bench-", dir="/tmp") as scratch_name:
        scratch = Path(scratch_name)
        tree = scratch / "small-files"
        make_small_file_tree(tree)
        tarball = scratch / "tree.tar"
        megabytes = make_tarball(tarball) / 1e6
        # One native find first, so that every runner finds /usr's inodes
        # in the host's cache.
        subprocess.run(["find", "/usr"], check=True, stdout=subprocess.DEVNULL,
                       timeout=TIMEOUT_SECONDS)

        benchmarks = {
            f"stat, {FS_STAT_FILES:,} paths x {FS_STAT_ROUNDS} (µs per call)": (
                lambda prefix: fs_op_us(prefix, program, "stat", tree, FS_STAT_FILES,
                                        FS_STAT_ROUNDS)),
            f"open+read+close, {FS_TREE_FILES:,} small files (µs per file)": (
                lambda prefix: fs_op_us(prefix, program, "read", tree, FS_TREE_FILES, 1)),
            f"untar {megabytes:.0f} MB, {UNTAR_FILES:,} files (ms)": (
                lambda prefix: untar_ms(prefix, tarball, scratch)),
            "find /usr (ms)": find_usr_ms,
        }
        return measure_rows(benchmarks, available)


def ipc_op(prefix: list[str], program: Path, mode: str, *arguments: int) -> float:
    output = run(prefix + [str(program), mode, *map(str, arguments)]).stdout
    return float(output.strip())


def measure_ipc(available: dict[str, list[str]], program: Path) -> dict[str, dict]:
    """Measure each inter-process communication benchmark under every runner."""
    benchmarks = {
        f"pipe, {PIPE_STREAM_MIB // 1024} GiB in 64 KiB writes (MiB/s, higher is better)": (
            lambda prefix: ipc_op(prefix, program, "pipe-stream", PIPE_STREAM_MIB)),
        "unix socket ping-pong, 1 byte (µs per round trip)": (
            lambda prefix: ipc_op(prefix, program, "unix-pingpong", PINGPONG_ROUND_TRIPS)),
        f"TCP 127.0.0.1, {TCP_STREAM_MIB} MiB in 64 KiB writes (MiB/s, higher is better)": (
            lambda prefix: ipc_op(prefix, program, "tcp-stream", TCP_STREAM_MIB)),
        "TCP 127.0.0.1 ping-pong, 1 byte (µs per round trip)": (
            lambda prefix: ipc_op(prefix, program, "tcp-pingpong", PINGPONG_ROUND_TRIPS)),
        f"epoll_wait, 1 of {EPOLL_WAIT_FDS:,} pipes readable (µs per call)": (
            lambda prefix: ipc_op(prefix, program, "epoll-wait", EPOLL_WAIT_ITERATIONS,
                                  EPOLL_WAIT_FDS)),
    }
    return measure_rows(benchmarks, available)


def format_cell(value) -> str:
    if value is None:
        return "failed"
    if isinstance(value, str):
        return value
    return f"{value:.1f}"


def print_results(results: dict[str, dict], runner_names: list[str]) -> None:
    """Print the Markdown table of every row, with ward's ratios to native and to runsc."""
    header = ["benchmark"] + runner_names + ["ward / native", "ward / runsc-ptrace"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, by_runner in results.items():
        cells = [name] + [format_cell(by_runner.get(runner)) for runner in runner_names]
        ward_value = by_runner.get("ward")
        for baseline in ("native", "runsc-ptrace"):
            base = by_runner.get(baseline)
            measured = isinstance(ward_value, float) and isinstance(base, float) and base
            cells.append(f"{ward_value / base:.2f}" if measured else "n/a")
        print("| " + " | ".join(cells) + " |")


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
    parser.add_argument("--only", action="append", choices=GROUPS,
                        help="run only this group of rows; may be repeated (default: all)")
    args = parser.parse_args()
    groups = set(args.only or GROUPS)

    build = Path(args.build)
    ward = build / "cli" / "ward"
    getpid_program = build / "bench" / "getpid_loop"
    process_program = build / "bench" / "process_ops"
    futex_program = build / "bench" / "futex_pingpong"
    compat_gaps_program = build / "tests" / "integration" / "compat_gaps"
    fs_program = build / "bench" / "fs_ops"
    ipc_program = build / "bench" / "ipc_ops"
    for needed in (ward, getpid_program, process_program, futex_program, compat_gaps_program,
                   fs_program, ipc_program):
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
    results: dict[str, dict] = {}
    if "process" in groups:
        results.update(measure_rows(benchmarks, available))
    if "fs" in groups:
        results.update(measure_filesystem(available, fs_program))
    if "ipc" in groups:
        results.update(measure_ipc(available, ipc_program))

    print(f"Machine: {machine_description()}\n")
    if results:
        print_results(results, list(available))

    if "compat" not in groups:
        return 0
    try:
        print_compat_overhead(compat_overhead(ward, compat_gaps_program))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"run_benchmarks: the ward compat overhead run failed: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
