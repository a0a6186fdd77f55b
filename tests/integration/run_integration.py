#!/usr/bin/env python3
"""Run one integration case: a real Debian program under `ward do`.

Each case runs a program under ward and checks its stdout, stderr and exit
status, against fixed expectations or against the same command run
natively. Every run starts in a new session in a fresh temporary directory.
A run that times out, or that leaves a process of its session alive, fails
the case (see tests/conformance/guarded_run.py).

Exit status: 0 when the case passes, 1 when it fails, 77 when it cannot run
here (CTest's SKIP_RETURN_CODE), 2 on bad usage.
"""

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Keep the source tree free of __pycache__ folders.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))
from guarded_run import (  # noqa: E402
    collect_leaks,
    install_sigterm_handler,
    kill_session,
    live_session_members,
    native_status,
    run_guarded,
    ward_environment_flags,
    ward_status,
)

EXIT_SKIPPED = 77
# Per-run timeouts. The ls_root case may make four runs, which must fit in
# the 60 s CTest timeout with room for the leak checks. A native run is
# quick once the page cache is warm, but its first walk of /usr on a fresh
# machine busy building reads from disk and can take several seconds.
NATIVE_TIMEOUT_SECONDS = 10
WARD_TIMEOUT_SECONDS = 20

FIXED_ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/",
    "LANG": "C",
    "LC_ALL": "C",
    "TZ": "UTC",
}

BUSYBOX = "/bin/busybox"
DASH = "/bin/dash"
PERL = "/usr/bin/perl"
PYTHON = "/usr/bin/python3"


class CaseSkipped(Exception):
    pass


class CaseFailed(Exception):
    pass


def decode(data):
    return data.decode(errors="backslashreplace")


class Case:
    """The ward binary, helper programs and work directory that one case runs with."""

    def __init__(self, options, work_directory):
        self.ward = options.ward
        self.erofs_program = options.erofs_program
        self.static_pie_program = options.static_pie_program
        self.futex_storm_program = options.futex_storm_program
        self.int80_program = options.int80_program
        self.strace_program = options.strace_program
        self.compat_gaps_program = options.compat_gaps_program
        self.work_directory = work_directory

    def run_native(self, argv, stdin_bytes=None):
        result = run_guarded(
            argv,
            cwd=self.work_directory,
            env=FIXED_ENVIRONMENT,
            timeout_seconds=NATIVE_TIMEOUT_SECONDS,
            stdin_bytes=stdin_bytes,
        )
        self._raise_if_broken("native", result)
        result.status = native_status(result.returncode)
        return result

    def run_ward(
        self,
        argv,
        stdin_bytes=None,
        log_level=None,
        do_flags=(),
        timeout_seconds=WARD_TIMEOUT_SECONDS,
        subcommand="do",
    ):
        """Run argv under `ward SUBCOMMAND`, `ward do` or `ward compat`."""
        options = ["--log-level", log_level] if log_level else []
        ward_argv = [
            self.ward,
            *options,
            subcommand,
            *ward_environment_flags(FIXED_ENVIRONMENT),
            *do_flags,
            "--",
            *argv,
        ]
        result = run_guarded(
            ward_argv,
            cwd=self.work_directory,
            env=FIXED_ENVIRONMENT,
            timeout_seconds=timeout_seconds,
            stdin_bytes=stdin_bytes,
        )
        self._raise_if_broken("ward", result)
        result.status = ward_status(result.returncode, result.stderr)
        return result

    def run_ward_logged(self, argv):
        """Runs argv under ward with each compatibility gap logged on stderr."""
        return self.run_ward(argv, log_level="warn")

    @staticmethod
    def _raise_if_broken(label, result):
        problems = result.problems()
        if problems:
            raise CaseFailed(
                f"the {label} run of {' '.join(result.argv)} is unusable:\n  "
                + "\n  ".join(problems)
                + f"\n--- {label} stderr ---\n{decode(result.stderr)}"
            )

    def write_file(self, name, data, mode):
        path = Path(self.work_directory) / name
        path.write_bytes(data)
        path.chmod(mode)
        return str(path)


def describe(result):
    return (
        f"status {result.status} (exit code {result.returncode})\n"
        f"--- stdout ---\n{decode(result.stdout)}\n--- stderr ---\n{decode(result.stderr)}"
    )


def expect_status(result, status):
    if result.status != status:
        raise CaseFailed(f"expected status {status}, got {describe(result)}")


def expect_stdout(result, stdout):
    if result.stdout != stdout:
        raise CaseFailed(f"expected stdout {stdout!r}, got {result.stdout!r}\n{describe(result)}")


def expect_no_stderr(result):
    if result.stderr:
        raise CaseFailed(f"expected nothing on stderr\n{describe(result)}")


def expect_stderr_line(result, line):
    lines = decode(result.stderr).splitlines()
    if line not in lines:
        raise CaseFailed(f"expected the stderr line {line!r}\n{describe(result)}")


def expect_same_as_native(case, argv, stdin_bytes=None, filter_output=None):
    """Run argv natively and under ward and require equal stdout, stderr and status.

    filter_output, when given, maps stdout bytes to the lines to compare.
    """
    native = case.run_native(argv, stdin_bytes)
    sandboxed = case.run_ward(argv, stdin_bytes)
    if native.status != "exit 0":
        raise CaseFailed(f"the native run failed, so it cannot be the oracle: {describe(native)}")
    compare = filter_output or (lambda data: decode(data).splitlines())
    if not runs_match(native, sandboxed, compare):
        raise CaseFailed(difference_report(native, sandboxed, compare))
    return native, sandboxed


def runs_match(native, sandboxed, compare):
    return (
        compare(sandboxed.stdout) == compare(native.stdout)
        and sandboxed.stderr == native.stderr
        and sandboxed.status == native.status
    )


def difference_report(native, sandboxed, compare):
    diff = "".join(
        difflib.unified_diff(
            [line + "\n" for line in compare(native.stdout)],
            [line + "\n" for line in compare(sandboxed.stdout)],
            fromfile="native",
            tofile="ward",
        )
    )
    if not diff:
        diff = "(stdout is the same)\n"
    return (
        f"ward differs from native\n"
        f"  native status: {native.status}\n"
        f"  ward status:   {sandboxed.status}\n"
        f"{diff}"
        f"--- native stderr ---\n{decode(native.stderr)}"
        f"--- ward stderr ---\n{decode(sandboxed.stderr)}"
    )


def require_busybox():
    if not os.access(BUSYBOX, os.X_OK):
        raise CaseSkipped(f"{BUSYBOX} is not installed (Debian package busybox-static)")


# Cases. Each takes a Case and raises CaseFailed or CaseSkipped.


def case_true(case):
    result = case.run_ward(["/bin/true"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"")
    expect_no_stderr(result)


def case_false(case):
    result = case.run_ward(["/bin/false"])
    expect_status(result, "exit 1")
    expect_stdout(result, b"")
    expect_no_stderr(result)


def case_echo_hello(case):
    # "echo" without a slash makes ward search PATH.
    result = case.run_ward(["echo", "hello"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"hello\n")
    expect_no_stderr(result)


def case_cat_hostname(case):
    expect_same_as_native(case, ["cat", "/etc/hostname"])


def case_cat_stdin(case):
    data = b"line one\nline two\n" * 1000
    result = case.run_ward(["cat"], stdin_bytes=data)
    expect_status(result, "exit 0")
    expect_stdout(result, data)
    expect_no_stderr(result)


# The sandbox mounts its own /proc, /sys and /dev, so ls shows different
# sizes, link counts and times for them, and their lines are left out. So
# is /tmp, whose time and link count change whenever a test running in
# parallel makes or removes a folder there. The "total" line sums the
# blocks of every entry, so it is left out too. The padding of a column
# depends on its widest value, so spaces are collapsed. The root is a
# directory the overlay merges from both layers, which reports 1 link and
# the size of its upper directory as Linux's overlayfs does, so those two
# fields of "." and ".." are left out.
SANDBOX_OWNED_ENTRIES = {"proc", "sys", "dev", "tmp"}
MERGED_ENTRIES = {".", ".."}
LS_LINKS_FIELD = 1
LS_SIZE_FIELD = 4


def ls_lines_outside_sandbox_mounts(data):
    lines = []
    for line in decode(data).splitlines():
        if line.startswith("total "):
            continue
        fields = line.split(None, 8)
        if len(fields) == 9 and fields[8] in SANDBOX_OWNED_ENTRIES:
            continue
        if len(fields) == 9 and fields[8] in MERGED_ENTRIES:
            fields[LS_LINKS_FIELD] = fields[LS_SIZE_FIELD] = "-"
        lines.append(" ".join(fields))
    return lines


def case_ls_root(case):
    argv = ["ls", "-la", "/"]
    try:
        expect_same_as_native(case, argv, filter_output=ls_lines_outside_sandbox_mounts)
    except CaseFailed:
        # Other processes may change the time of a directory such as /tmp
        # between the two runs, so compare once more with a newer native run.
        sandboxed = case.run_ward(argv)
        native = case.run_native(argv)
        compare = ls_lines_outside_sandbox_mounts
        if not runs_match(native, sandboxed, compare):
            raise CaseFailed(difference_report(native, sandboxed, compare)) from None


def case_env_empty(case):
    result = case.run_ward(["env", "-i", "A=1", "/usr/bin/env"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"A=1\n")
    expect_no_stderr(result)


def case_env_fixed(case):
    # The runner passes its environment to the guest with --env.
    expect_same_as_native(case, ["/usr/bin/env"])


def case_uname_a(case):
    expect_same_as_native(case, ["uname", "-a"])


def case_sha256sum_ls(case):
    expect_same_as_native(case, ["sha256sum", "/usr/bin/ls"])


def case_python_sum(case):
    result = case.run_ward([PYTHON, "-c", "print(sum(range(10)))"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"45\n")
    expect_no_stderr(result)


def case_python_hash(case):
    script = "import hashlib; print(hashlib.sha256(open('/usr/bin/ls', 'rb').read()).hexdigest())"
    native, _ = expect_same_as_native(case, [PYTHON, "-c", script])
    expected = hashlib.sha256(Path("/usr/bin/ls").read_bytes()).hexdigest()
    if decode(native.stdout).strip() != expected:
        raise CaseFailed(f"python's hash {native.stdout!r} is not the file's hash {expected}")


# With two or more pipes to read, communicate() waits on them with the
# selectors module, which uses poll, so these cases need poll and pipes
# across fork and execve.
def case_python_subprocess_run(case):
    script = (
        "import subprocess\n"
        "result = subprocess.run(['echo', 'hi'], capture_output=True)\n"
        "print(result.returncode, result.stdout, result.stderr)"
    )
    native, _ = expect_same_as_native(case, [PYTHON, "-c", script])
    if native.stdout != b"0 b'hi\\n' b''\n":
        raise CaseFailed(f"the native run printed {native.stdout!r}, not the echo's output")


def case_python_check_output(case):
    script = (
        "import subprocess\n"
        "command = ['sh', '-c', 'echo out; echo err >&2; echo more']\n"
        "print(subprocess.check_output(command, stderr=subprocess.PIPE))\n"
        "process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "print(process.communicate(), process.returncode)\n"
        "# More input than a pipe buffers, so communicate() also waits for POLLOUT.\n"
        "result = subprocess.run(['cat'], input=b'x' * 200000, capture_output=True)\n"
        "print(len(result.stdout), result.stdout == b'x' * 200000)"
    )
    expect_same_as_native(case, [PYTHON, "-c", script])


# asyncio's event loop waits with epoll (selectors.EpollSelector) and
# wakes itself through a socketpair, so this case also needs AF_UNIX
# sockets. Python 3.11 has no fallback when socketpair fails.
def case_python_asyncio(case):
    script = (
        "import asyncio\n"
        "async def main():\n"
        "    await asyncio.sleep(0.05)\n"
        "    process = await asyncio.create_subprocess_exec(\n"
        "        'sh', '-c', 'echo out; echo err >&2; exit 3',\n"
        "        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)\n"
        "    out, err = await process.communicate()\n"
        "    print(out, err, process.returncode)\n"
        "asyncio.run(main())"
    )
    native, _ = expect_same_as_native(case, [PYTHON, "-c", script])
    if native.stdout != b"b'out\\n' b'err\\n' 3\n":
        raise CaseFailed(f"the native run printed {native.stdout!r}, not the child's output")


# A socketpair echo across fork: a child upper-cases what the parent
# sends until the parent shuts down its sending half.
def case_python_socketpair_echo(case):
    script = (
        "import os, socket\n"
        "a, b = socket.socketpair()\n"
        "if os.fork() == 0:\n"
        "    a.close()\n"
        "    while data := b.recv(1024):\n"
        "        b.sendall(data.upper())\n"
        "    os._exit(0)\n"
        "b.close()\n"
        "for word in [b'one', b'two', b'x' * 100000]:\n"
        "    a.sendall(word)\n"
        "    got = b''\n"
        "    while len(got) < len(word):\n"
        "        got += a.recv(65536)\n"
        "    print(len(got), got[:5])\n"
        "a.shutdown(socket.SHUT_WR)\n"
        "print(a.recv(10), os.wait()[1])"
    )
    native, _ = expect_same_as_native(case, [PYTHON, "-c", script])
    if not native.stdout.endswith(b"b'' 0\n"):
        raise CaseFailed(f"the native run printed {native.stdout!r}, not the child's echo")


# An asyncio TCP echo over 127.0.0.1: a server and a client in one
# process, each on a loopback socket of the sandbox, ending with a
# half-close.
def case_python_tcp_echo(case):
    script = (
        "import asyncio\n"
        "async def handle(reader, writer):\n"
        "    while data := await reader.read(65536):\n"
        "        writer.write(data.upper())\n"
        "        await writer.drain()\n"
        "    writer.close()\n"
        "async def main():\n"
        "    server = await asyncio.start_server(handle, '127.0.0.1', 0)\n"
        "    port = server.sockets[0].getsockname()[1]\n"
        "    reader, writer = await asyncio.open_connection('127.0.0.1', port)\n"
        "    for word in [b'one', b'two', b'x' * 100000]:\n"
        "        writer.write(word)\n"
        "        await writer.drain()\n"
        "        got = b''\n"
        "        while len(got) < len(word):\n"
        "            got += await reader.read(65536)\n"
        "        print(len(got), got[:5])\n"
        "    writer.write_eof()\n"
        "    print(await reader.read(), 'at EOF')\n"
        "    writer.close()\n"
        "    await writer.wait_closed()\n"
        "    server.close()\n"
        "    await server.wait_closed()\n"
        "asyncio.run(main())"
    )
    native, _ = expect_same_as_native(case, [PYTHON, "-c", script])
    if not native.stdout.endswith(b"b'' at EOF\n"):
        raise CaseFailed(f"the native run printed {native.stdout!r}, not the echo")


# `python3 -m http.server` on 127.0.0.1 fetched by urllib, both inside one
# sandbox. The shell picks a free port of the sandbox, starts the server,
# lets the client retry until the server listens (for at most 40 s, since
# a loaded machine starts Python slowly), and kills the server by its pid.
HTTP_SERVER_SCRIPT = """
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory . "$port" >/dev/null 2>&1 &
server=$!
python3 -c '
import sys, time, urllib.error, urllib.request
deadline = time.monotonic() + 40
body = b"server never listened\\n"
while time.monotonic() < deadline:
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%s/hello.txt" % sys.argv[1], timeout=10).read()
        break
    except urllib.error.URLError as error:
        if not isinstance(error.reason, ConnectionRefusedError):
            raise
        time.sleep(0.05)
sys.stdout.write(body.decode())
' "$port"
kill "$server"
wait "$server"
echo "server ended: $?"
"""


def case_python_http_server(case):
    case.write_file("hello.txt", b"hello over loopback\n", 0o644)
    result = case.run_ward(["/bin/sh", "-c", HTTP_SERVER_SCRIPT], timeout_seconds=50)
    expect_status(result, "exit 0")
    expect_stdout(result, b"hello over loopback\nserver ended: 143\n")


NODE = "/usr/bin/node"

# A node http server on 127.0.0.1 serves a request from a child node
# process and then one of its own. node's event loop runs on epoll, with
# eventfd wake-ups, and talks to its child through pipes and a socketpair.
NODE_HTTP_SCRIPT = """\
const http = require("http");
const { execFile } = require("child_process");
const server = http.createServer((request, response) => {
  response.end("hello from node " + request.url + "\\n");
});
function fetch(url, done) {
  http.get(url, (response) => {
    let body = "";
    response.on("data", (chunk) => { body += chunk; });
    response.on("end", () => done(body));
  });
}
server.listen(0, "127.0.0.1", () => {
  const base = "http://127.0.0.1:" + server.address().port;
  const child = "require('http').get('" + base + "/child', (r) => r.pipe(process.stdout))";
  execFile(process.execPath, ["-e", child], (error, output) => {
    if (error) {
      console.error("the child failed:", error.message);
      process.exit(1);
    }
    process.stdout.write("child got: " + output);
    fetch(base + "/parent", (body) => {
      process.stdout.write("parent got: " + body);
      server.close();
    });
  });
});
"""


def case_node_http(case):
    if not os.access(NODE, os.X_OK):
        raise CaseSkipped(f"{NODE} is not installed (Debian package nodejs)")
    script = case.write_file("server.js", NODE_HTTP_SCRIPT.encode(), 0o644)
    native, _ = expect_same_as_native(case, [NODE, script])
    expect_stdout(native, b"child got: hello from node /child\nparent got: hello from node /parent\n")


# busybox nc as a client of a Python server on 127.0.0.1 in the same
# sandbox: the server sends back one line upper-cased and closes. The
# shell waits at most 800 times 50 ms for the server's port.
NC_SCRIPT = """
python3 -c '
import socket
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
connection, _ = server.accept()
data = b""
while not data.endswith(b"\\n"):
    chunk = connection.recv(100)
    if not chunk:
        break
    data += chunk
connection.sendall(data.upper())
connection.close()
' >port.txt &
server=$!
tries=0
while [ ! -s port.txt ] && [ "$tries" -lt 800 ]; do
  sleep 0.05
  tries=$((tries + 1))
done
echo "hello from nc" | %s nc 127.0.0.1 "$(cat port.txt)"
wait "$server"
echo "server ended: $?"
"""


def case_busybox_nc(case):
    require_busybox()
    result = case.run_ward(["/bin/sh", "-c", NC_SCRIPT % BUSYBOX], timeout_seconds=50)
    expect_status(result, "exit 0")
    expect_stdout(result, b"HELLO FROM NC\nserver ended: 0\n")


# Destinations off loopback and raw sockets, under ward alone because a
# native run would reach the real network: each fails with Linux's errno
# for a sandbox whose only interface is lo, and is logged as a gap.
OFF_LOOPBACK_SCRIPT = (
    "import errno, socket\n"
    "tcp = socket.socket()\n"
    "try:\n"
    "    tcp.connect(('10.0.0.1', 80))\n"
    "except OSError as error:\n"
    "    print('connect', errno.errorcode[error.errno])\n"
    "udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
    "try:\n"
    "    udp.sendto(b'x', ('2001:db8::1', 53))\n"
    "except OSError as error:\n"
    "    print('sendto', errno.errorcode[error.errno])\n"
    "try:\n"
    "    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
    "except OSError as error:\n"
    "    print('raw', errno.errorcode[error.errno])\n"
)


def case_inet_off_loopback(case):
    result = case.run_ward_logged([PYTHON, "-c", OFF_LOOPBACK_SCRIPT])
    expect_status(result, "exit 0")
    expect_stdout(result, b"connect ENETUNREACH\nsendto ENETUNREACH\nraw EPERM\n")
    for line in [
        "[ward warning] [pid 1 tid 1 connect] unsupported: destination off loopback 10.0.0.1",
        "[ward warning] [pid 1 tid 1 sendto] unsupported: destination off loopback 2001:db8::1",
        "[ward warning] [pid 1 tid 1 socket] unsupported: AF_INET SOCK_RAW",
    ]:
        expect_stderr_line(result, line)


# A dual-stack listener on the IPv6 wildcard, under ward alone so that no
# test binds a host wildcard address: it accepts an IPv4 client as
# ::ffff:127.0.0.1, and with IPV6_V6ONLY set it refuses one.
DUAL_STACK_SCRIPT = (
    "import errno, socket\n"
    "for v6only in (0, 1):\n"
    "    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
    "    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)\n"
    "    server.bind(('::', 0))\n"
    "    server.listen(1)\n"
    "    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
    "    try:\n"
    "        client.connect(('127.0.0.1', server.getsockname()[1]))\n"
    "        connection, peer = server.accept()\n"
    "        print(v6only, peer[0], connection.getsockname()[0])\n"
    "    except OSError as error:\n"
    "        print(v6only, errno.errorcode[error.errno])\n"
)


def case_inet_dual_stack(case):
    result = case.run_ward([PYTHON, "-c", DUAL_STACK_SCRIPT])
    expect_status(result, "exit 0")
    expect_stdout(result, b"0 ::ffff:127.0.0.1 ::ffff:127.0.0.1\n1 ECONNREFUSED\n")


# multiprocessing with a Pipe (a socketpair) and a Queue between two
# processes.
def case_python_multiprocessing(case):
    script = (
        "import multiprocessing as mp\n"
        "def child(conn, queue):\n"
        "    conn.send(conn.recv() * 2)\n"
        "    queue.put([1, 2, 3])\n"
        "if __name__ == '__main__':\n"
        "    parent, other = mp.Pipe()\n"
        "    queue = mp.Queue()\n"
        "    process = mp.Process(target=child, args=(other, queue))\n"
        "    process.start()\n"
        "    parent.send(21)\n"
        "    print(parent.recv(), queue.get(timeout=20))\n"
        "    process.join()\n"
        "    print(process.exitcode)"
    )
    native, _ = expect_same_as_native(case, [PYTHON, "-c", script])
    if native.stdout != b"42 [1, 2, 3]\n0\n":
        raise CaseFailed(f"the native run printed {native.stdout!r}, not the child's replies")


# The selectors module's EpollSelector with pipes, an eventfd written by a
# thread and a child's output: epoll and eventfd through a real runtime,
# without the sockets that asyncio needs.
def case_python_epoll_selector(case):
    script = (
        "import os, selectors, subprocess, threading, time\n"
        "selector = selectors.EpollSelector()\n"
        "counter = os.eventfd(0, os.EFD_NONBLOCK)\n"
        "selector.register(counter, selectors.EVENT_READ, 'eventfd')\n"
        "child = subprocess.Popen(['sh', '-c', 'sleep 0.1; echo from child'],\n"
        "                         stdout=subprocess.PIPE)\n"
        "selector.register(child.stdout, selectors.EVENT_READ, 'child')\n"
        "thread = threading.Thread(target=lambda: (time.sleep(0.2), os.eventfd_write(counter, 5)))\n"
        "thread.start()\n"
        "seen = []\n"
        "while len(seen) < 3:\n"
        "    for key, events in selector.select(timeout=10):\n"
        "        if key.data == 'eventfd':\n"
        "            seen.append(('eventfd', os.eventfd_read(counter)))\n"
        "        else:\n"
        "            data = os.read(key.fd, 100)\n"
        "            seen.append(('child', data))\n"
        "            if not data:\n"
        "                selector.unregister(key.fileobj)\n"
        "thread.join()\n"
        "print(sorted(seen), child.wait())\n"
        "print(selector.select(timeout=0))"
    )
    expect_same_as_native(case, [PYTHON, "-c", script])


def case_busybox_echo(case):
    require_busybox()
    result = case.run_ward([BUSYBOX, "echo", "hello", "from", "busybox"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"hello from busybox\n")
    expect_no_stderr(result)


def case_busybox_ls_root(case):
    require_busybox()
    expect_same_as_native(case, [BUSYBOX, "ls", "/"])


def case_busybox_sha256sum(case):
    require_busybox()
    expect_same_as_native(case, [BUSYBOX, "sha256sum", "/usr/bin/ls"])


def case_busybox_uname_m(case):
    require_busybox()
    result = case.run_ward([BUSYBOX, "uname", "-m"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"x86_64\n")
    expect_no_stderr(result)


def case_static_pie(case):
    if not case.static_pie_program:
        raise CaseFailed("--static-pie-program is required for this case")
    expect_same_as_native(case, [case.static_pie_program, "first", "second argument"])


def case_futex_storm(case):
    if not case.futex_storm_program:
        raise CaseFailed("--futex-storm-program is required for this case")
    expect_same_as_native(case, [case.futex_storm_program])


# `int $0x80` is checked under ward only: a host with IA32 emulation runs
# it as an i386 system call, while ward behaves as Linux without it.
INT80_GAP_LINE = "unsupported: i386 system call"


def case_int80_handled(case):
    if not case.int80_program:
        raise CaseFailed("--int80-program is required for this case")
    result = case.run_ward_logged([case.int80_program])
    expect_status(result, "exit 0")
    # si_code 128 is SI_KERNEL.
    expect_stdout(
        result,
        b"before int 0x80\nsignal 11 si_code 128 si_addr (nil)\nrip at int 0x80: yes\nrax = 1 rbx = 42\n",
    )
    if INT80_GAP_LINE not in decode(result.stderr):
        raise CaseFailed(f"expected the gap {INT80_GAP_LINE!r} on stderr\n{describe(result)}")


def case_int80_unhandled(case):
    if not case.int80_program:
        raise CaseFailed("--int80-program is required for this case")
    result = case.run_ward([case.int80_program, "unhandled"])
    expect_status(result, "signal 11")
    expect_stdout(result, b"before int 0x80\n")


def case_shebang_script(case):
    # An interpreter argument ("-e") and a script argument.
    script = case.write_file("script.sh", b"#!/bin/sh -e\necho $0 $1\n", 0o755)
    native, _ = expect_same_as_native(case, [script, "argument"])
    expect_stdout(native, f"{script} argument\n".encode())


def case_shell_pipeline(case):
    # fork, pipe, execve and wait4 inside the sandbox.
    native, _ = expect_same_as_native(case, ["/bin/sh", "-c", "echo a b c | wc -w; echo done"])
    expect_stdout(native, b"3\ndone\n")


def case_cp_large_file(case):
    # cp copies with copy_file_range and cat may splice or sendfile; the
    # copies of a 10 MB file in the work directory must keep every byte.
    script = (
        "set -e; seq 1 1400000 > big; cp big copy; cat big | cat > piped; "
        "sha256sum big copy piped | cut -c1-64 | uniq -c | sed 's/^ *//'; "
        "wc -c < copy; rm big copy piped"
    )
    native, _ = expect_same_as_native(case, ["/bin/sh", "-c", script])
    if not native.stdout.startswith(b"3 "):
        raise CaseFailed(f"expected three equal digests natively\n{describe(native)}")


def case_shell_exit_code(case):
    result = case.run_ward(["/bin/sh", "-c", "exit 42"])
    expect_status(result, "exit 42")
    expect_no_stderr(result)


def case_shell_kill_self(case):
    result = case.run_ward(["/bin/sh", "-c", "kill -SEGV $$"])
    expect_status(result, "signal 11")
    if result.returncode != 128 + 11:
        raise CaseFailed(f"expected ward's exit code 139, got {result.returncode}")
    if not decode(result.stderr).startswith("ward: /bin/sh killed by signal 11 "):
        raise CaseFailed(f"expected ward's message about signal 11 on stderr\n{describe(result)}")


# Job control and process handling in a POSIX shell. The script runs a
# pipeline into tac, a subshell, command substitution, a background job
# with wait, and a trap on a signal the shell sends itself. Its last line
# prints the status of a background job killed by SIGTERM (128 + 15).
# Whether a shell also reports that job on stderr ("Terminated") depends
# on when it notices the death, so that line discards stderr.
# GNU tac copies a pipe into a temporary file in /tmp, which needs the
# overlay root; dash_jobs runs the script without that line.
SHELL_PIPELINE_LINE = "for i in 1 2 3; do echo $i; done | tac\n"
SHELL_JOBS_SCRIPT = """\
(echo in subshell; exit 3); echo subshell status $?
captured=$(echo captured; echo twice); echo "$captured"
(sleep 0.2; echo background done) & echo started; wait; echo waited $?
trap 'echo got TERM' TERM; kill -TERM $$; echo after trap
trap - TERM
{ sleep 5 & kill -TERM $!; wait $!; echo $?; } 2>/dev/null
"""
SHELL_PROCESS_SCRIPT = SHELL_PIPELINE_LINE + SHELL_JOBS_SCRIPT

SHELL_PIPELINE_OUTPUT = b"3\n2\n1\n"
SHELL_JOBS_OUTPUT = b"""\
in subshell
subshell status 3
captured
twice
started
background done
waited 0
got TERM
after trap
143
"""


def require_dash():
    if not os.access(DASH, os.X_OK):
        raise CaseSkipped(f"{DASH} is not installed (Debian package dash)")


def case_dash_processes(case):
    require_dash()
    native, _ = expect_same_as_native(case, [DASH, "-c", SHELL_PROCESS_SCRIPT])
    expect_stdout(native, SHELL_PIPELINE_OUTPUT + SHELL_JOBS_OUTPUT)


def case_dash_jobs(case):
    require_dash()
    native, _ = expect_same_as_native(case, [DASH, "-c", SHELL_JOBS_SCRIPT])
    expect_stdout(native, SHELL_JOBS_OUTPUT)


def case_busybox_sh_processes(case):
    # busybox sh runs its own tac applet, which keeps the lines in memory.
    require_busybox()
    native, _ = expect_same_as_native(case, [BUSYBOX, "sh", "-c", SHELL_PROCESS_SCRIPT])
    expect_stdout(native, SHELL_PIPELINE_OUTPUT + SHELL_JOBS_OUTPUT)


# 16 threads, a thread pool and a child process that writes to the
# inherited stdout; every line is flushed so that the order is fixed.
PYTHON_THREADS_SCRIPT = """\
import concurrent.futures, subprocess, threading
sums = [0] * 16
def work(index):
    sums[index] = sum(range(index * 1000))
threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sum(sums), flush=True)
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    print(sum(pool.map(lambda x: x * x, range(100))), flush=True)
print(subprocess.run(["echo", "hi"]).returncode, flush=True)
"""


def case_python_threads(case):
    native, _ = expect_same_as_native(case, [PYTHON, "-c", PYTHON_THREADS_SCRIPT])
    expect_stdout(native, b"619940000\n328350\nhi\n0\n")


# signal.alarm delivers SIGALRM to a handler while the main thread sleeps
# in signal.pause, and setitimer repeats it.
PYTHON_ALARM_SCRIPT = """\
import signal
hits = []
signal.signal(signal.SIGALRM, lambda number, frame: hits.append(number))
signal.alarm(1)
signal.pause()
print("alarm", hits, flush=True)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
while len(hits) < 4:
    signal.pause()
signal.setitimer(signal.ITIMER_REAL, 0)
print("interval", len(hits), flush=True)
"""


def case_python_alarm(case):
    native, _ = expect_same_as_native(case, [PYTHON, "-c", PYTHON_ALARM_SCRIPT])
    expect_stdout(native, b"alarm [14]\ninterval 4\n")


def case_perl_fork(case):
    script = "my $p = fork; if ($p == 0) { exit 3 } waitpid($p, 0); print $? >> 8"
    native, _ = expect_same_as_native(case, [PERL, "-e", script])
    expect_stdout(native, b"3")


# A bounded fork bomb: a binary tree of shells six levels deep, whose 64
# leaves each run sleep, about 190 processes in all, each gone within
# FORK_BOMB_SLEEP_SECONDS.
FORK_BOMB_SLEEP_SECONDS = 20
FORK_BOMB_SCRIPT = (
    "tree() { if [ $1 -gt 0 ]; then tree $(($1 - 1)) & tree $(($1 - 1)) & wait; "
    f"else sleep {FORK_BOMB_SLEEP_SECONDS}; fi; }}; tree 6"
)
# ward is killed once its session has this many processes, or after
# FORK_BOMB_GROWTH_SECONDS; the case fails if the tree never reached
# FORK_BOMB_MIN_PROCESSES, since then it proved nothing.
FORK_BOMB_KILL_AT = 100
FORK_BOMB_MIN_PROCESSES = 20
FORK_BOMB_GROWTH_SECONDS = 15
FORK_BOMB_POLL_SECONDS = 0.02


def case_sigkill_fork_bomb(case):
    """SIGKILL ward while its guest forks: no stub process may outlive it.

    ward's stubs and the guest processes they run all belong to the
    session ward starts in, so any member left after ward dies is a leak.
    """
    process = subprocess.Popen(
        [case.ward, "do", *ward_environment_flags(FIXED_ENVIRONMENT), "--", "/bin/sh", "-c",
         FORK_BOMB_SCRIPT],
        cwd=case.work_directory,
        env=FIXED_ENVIRONMENT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    session_id = process.pid
    try:
        peak = 0
        deadline = time.monotonic() + FORK_BOMB_GROWTH_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            peak = max(peak, len(live_session_members(session_id)))
            if peak >= FORK_BOMB_KILL_AT:
                break
            time.sleep(FORK_BOMB_POLL_SECONDS)
        if process.poll() is not None:
            raise CaseFailed(
                f"ward exited with {process.returncode} before it was killed "
                f"(at most {peak} processes in its session)"
            )
        process.send_signal(signal.SIGKILL)
        process.wait()
        leaked = collect_leaks(session_id)
    except BaseException:
        kill_session(session_id)
        process.wait()
        raise
    if leaked:
        listing = "\n  ".join(leaked)
        raise CaseFailed(f"processes outlived ward's SIGKILL, now killed:\n  {listing}")
    if peak < FORK_BOMB_MIN_PROCESSES:
        raise CaseFailed(
            f"the fork tree reached only {peak} processes in {FORK_BOMB_GROWTH_SECONDS} s, "
            f"fewer than {FORK_BOMB_MIN_PROCESSES}"
        )


# RLIMIT_FSIZE on the one regular file a sandboxed program can write: its
# standard output redirected to a host file. The shell's `ulimit -f 1`
# allows 512 bytes. head's first write is cut short there, and its next one
# fails with EFBIG and SIGXFSZ, which kills it. An appending write to a
# file already past the limit fails at once. The host shell outside the
# sandbox makes the redirections, so native and ward runs see the same
# files.
FILE_SIZE_LIMIT_SCRIPT = 'ulimit -f 1; head -c 2000 /dev/zero; echo "head status $?" >&2'


def run_file_size_limit(case, prefix, name):
    output = Path(case.work_directory) / f"{name}.out"
    appended = Path(case.work_directory) / f"{name}.append"
    appended.write_bytes(b"x" * 600)
    quoted = " ".join(f"'{word}'" for word in prefix)
    stderr = ""
    for redirection, path in ((">", output), (">>", appended)):
        result = run_guarded(
            ["/bin/sh", "-c", f"{quoted} /bin/sh -c '{FILE_SIZE_LIMIT_SCRIPT}' {redirection} '{path}'"],
            cwd=case.work_directory,
            env=FIXED_ENVIRONMENT,
            timeout_seconds=WARD_TIMEOUT_SECONDS,
        )
        case._raise_if_broken(name, result)
        stderr += decode(result.stderr)
    return stderr, output.stat().st_size, appended.stat().st_size


def case_file_size_limit(case):
    native = run_file_size_limit(case, [], "native")
    ward_prefix = [case.ward, "do", *ward_environment_flags(FIXED_ENVIRONMENT), "--"]
    ward = run_file_size_limit(case, ward_prefix, "ward")
    if native != ward:
        raise CaseFailed(f"native (stderr, sizes) {native!r}\nward (stderr, sizes) {ward!r}")
    if native[1:] != (512, 600):
        raise CaseFailed(f"the native run left files of {native[1:]} bytes, expected (512, 600)")


def case_missing_command(case):
    name = "ward-test-no-such-command"
    result = case.run_ward([name])
    expect_status(result, "exit 127")
    expect_stderr_line(result, f"ward: {name}: command not found")


def case_missing_path(case):
    path = os.path.join(case.work_directory, "no-such-program")
    result = case.run_ward([path])
    expect_status(result, "exit 127")
    expect_stderr_line(result, f"ward: {path}: No such file or directory")


def expect_cannot_execute(result, path):
    expect_status(result, "exit 126")
    prefix = f"ward: {path}: "
    if not any(line.startswith(prefix) for line in decode(result.stderr).splitlines()):
        raise CaseFailed(f"expected a stderr line starting with {prefix!r}\n{describe(result)}")


def case_directory(case):
    directory = os.path.join(case.work_directory, "a-directory")
    os.mkdir(directory)
    expect_cannot_execute(case.run_ward([directory]), directory)


def case_not_executable(case):
    path = case.write_file("not-executable.sh", b"#!/bin/sh\necho should not run\n", 0o644)
    result = case.run_ward([path])
    expect_cannot_execute(result, path)
    expect_stdout(result, b"")


def case_truncated_elf(case):
    head = Path("/bin/true").read_bytes()[:100]
    path = case.write_file("truncated-elf", head, 0o755)
    result = case.run_ward([path])
    expect_status(result, "exit 126")
    expect_stderr_line(result, f"ward: {path}: cannot execute binary file: Exec format error")


EROFS_FIXTURE_FILES = ("existing", "to_unlink")


def make_erofs_fixture(directory):
    for name in EROFS_FIXTURE_FILES:
        (Path(directory) / name).write_bytes(b"contents\n")
    os.mkdir(os.path.join(directory, "subdir"))


def case_shm_in_memory(case):
    # /dev/shm is the sandbox's own tmpfs: a file written there is read back
    # inside and never reaches the host's /dev/shm.
    name = f"ward-integration-{os.getpid()}"
    host_path = os.path.join("/dev/shm", name)
    result = case.run_ward(["/bin/sh", "-c", f"echo hi > /dev/shm/{name} && cat /dev/shm/{name}"])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    if decode(result.stdout) != "hi\n":
        raise CaseFailed(f"expected hi read back from /dev/shm\n{describe(result)}")
    if os.path.lexists(host_path):
        os.unlink(host_path)
        raise CaseFailed(f"the sandbox's write reached the host's {host_path}")



IPCS = "/usr/bin/ipcs"

# Makes one object of each System V IPC kind with IPC_PRIVATE, prints what
# ipcs lists, and removes the objects (IPC_RMID is 0) whatever happens.
IPCS_SCRIPT = """\
import ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0, 3 * 4096, 0o640)
sem = libc.semget(0, 2, 0o600)
msg = libc.msgget(0, 0o600)
try:
    print(subprocess.run(["ipcs"], capture_output=True, text=True).stdout, end="")
finally:
    libc.shmctl(shm, 0, None)
    libc.semctl(sem, 0, 0)
    libc.msgctl(msg, 0, None)
"""


def case_ipcs_lists_objects(case):
    # ipcs reads /proc/sysvipc, which lists the sandbox's own objects only.
    if not os.path.exists(IPCS):
        raise CaseSkipped(f"{IPCS} is not installed (Debian package util-linux)")
    result = case.run_ward([PYTHON, "-c", IPCS_SCRIPT])
    expect_status(result, "exit 0")
    sections = {}
    current = None
    for line in decode(result.stdout).splitlines():
        if line.startswith("------"):
            current = line.strip("- ")
            sections[current] = []
        elif current is not None and line.startswith("0x"):
            sections[current].append(line.split())
    expected = {
        "Shared Memory Segments": [["0x00000000", "640", "12288", "0"]],
        "Semaphore Arrays": [["0x00000000", "600", "2"]],
        "Message Queues": [["0x00000000", "600", "0", "0"]],
    }
    for title, rows in expected.items():
        listed = [[fields[0]] + fields[3:] for fields in sections.get(title, [])]
        if listed != rows:
            raise CaseFailed(f"ipcs listed {listed} under {title!r}, expected {rows}\n"
                             f"{describe(result)}")


def case_mount_tmpfs_util_linux(case):
    # util-linux mount and umount change the sandbox's own mount tree. The
    # file written on the tmpfs is gone after the umount and never reaches
    # the host's /mnt.
    if not os.access("/bin/mount", os.X_OK) or not os.access("/bin/umount", os.X_OK):
        raise CaseSkipped("/bin/mount or /bin/umount is not installed (Debian package mount)")
    script = (
        "mount -t tmpfs none /mnt && echo x > /mnt/f && cat /mnt/f"
        " && grep -c '^none /mnt tmpfs' /proc/self/mounts"
        " && umount /mnt && test ! -e /mnt/f && echo gone"
    )
    result = case.run_ward(["/bin/sh", "-c", script])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expect_stdout(result, b"x\n1\ngone\n")
    if os.path.lexists("/mnt/f"):
        raise CaseFailed("the sandbox's write on its tmpfs reached the host's /mnt/f")


def case_mount_as_user(case):
    # Without CAP_SYS_ADMIN (ward do --user), mount, umount2 and
    # unshare(CLONE_NEWNS) fail with EPERM.
    script = (
        "import ctypes, errno\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "calls = [\n"
        "    ('mount', lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),\n"
        "    ('umount2', lambda: libc.umount2(b'/dev/shm', 0)),\n"
        "    ('unshare', lambda: libc.unshare(0x20000)),\n"
        "]\n"
        "for name, call in calls:\n"
        "    result = call()\n"
        "    print(name, result, errno.errorcode.get(ctypes.get_errno(), '-'))\n"
    )
    result = case.run_ward([PYTHON, "-c", script], do_flags=["--user", "1000:1000"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"mount -1 EPERM\numount2 -1 EPERM\nunshare -1 EPERM\n")


# Tools that read /proc and /sys. Values that change between runs (times,
# memory use, pids) are checked for form; CPU counts match native.


def case_proc_nproc(case):
    expect_same_as_native(case, ["nproc"])


def case_proc_python_cpus(case):
    script = "import os\nprint(os.cpu_count(), sorted(os.sched_getaffinity(0)))\n"
    expect_same_as_native(case, [PYTHON, "-c", script])


def case_proc_cpuinfo(case):
    # The clock rate of each CPU changes from one read to the next.
    def without_clock_rate(data):
        return [line for line in decode(data).splitlines() if not line.startswith("cpu MHz")]

    expect_same_as_native(case, ["cat", "/proc/cpuinfo"], filter_output=without_clock_rate)


def expect_ward_lines(case, argv, *fragments):
    """Runs argv under ward and requires exit 0 and each fragment in stdout."""
    result = case.run_ward(argv)
    expect_status(result, "exit 0")
    output = decode(result.stdout)
    for fragment in fragments:
        if fragment not in output:
            raise CaseFailed(f"expected {fragment!r} in the output\n{describe(result)}")
    return output


def case_proc_self_files(case):
    expect_ward_lines(case, ["cat", "/proc/self/status"], "Name:\tcat\n", "\nPPid:\t0\n")
    expect_ward_lines(case, ["cat", "/proc/self/maps"], "[stack]\n", "/usr/bin/cat\n")
    output = expect_ward_lines(case, ["ls", "-l", "/proc/self/fd"], " 0 -> ", " 3 -> /proc/")
    if "/proc/1/fd" not in output:
        raise CaseFailed(f"ls did not read its own fd directory as pid 1:\n{output}")


# The sandbox's network is loopback only: the interface listings that read
# NETLINK_ROUTE dumps and the interface ioctls show lo alone.


def case_python_if_nameindex(case):
    script = (
        "import socket\n"
        "print(socket.if_nameindex(), socket.if_nametoindex('lo'), socket.if_indextoname(1))\n"
    )
    result = case.run_ward([PYTHON, "-c", script])
    expect_status(result, "exit 0")
    expect_stdout(result, b"[(1, 'lo')] 1 lo\n")
    expect_no_stderr(result)


def case_ip_addr(case):
    ip = "/usr/sbin/ip" if os.access("/usr/sbin/ip", os.X_OK) else "/sbin/ip"
    require_program(ip, "iproute2")
    output = expect_ward_lines(
        case,
        [ip, "addr"],
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 ",
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n",
        "    inet 127.0.0.1/8 scope host lo\n",
        "    inet6 ::1/128 scope host",
    )
    if "\n2: " in output:
        raise CaseFailed(f"ip addr listed more than lo:\n{output}")
    # lo's entry, read with a link query and an address dump, is the host's.
    expect_same_as_native(case, [ip, "addr", "show", "lo"])


def case_proc_ps(case):
    output = expect_ward_lines(case, ["ps", "-ef"], "UID", "ps -ef")
    # Only the sandbox's one process exists, with its virtual pid.
    lines = output.splitlines()
    if len(lines) != 2 or lines[1].split()[1] != "1":
        raise CaseFailed(f"ps -ef listed more than the sandbox's process:\n{output}")


def case_proc_free_uptime(case):
    expect_ward_lines(case, ["free"], "Mem:", "Swap:")
    expect_ward_lines(case, ["uptime"], "up 0 min", "load average:")


def case_erofs_writes(case):
    if not case.erofs_program:
        raise CaseFailed("--erofs-program is required for this case")
    require_overlay_option(case)

    # Natively every write succeeds, so the native run only proves that the
    # helper works. It writes into a directory of its own.
    native_directory = os.path.join(case.work_directory, "native")
    os.mkdir(native_directory)
    make_erofs_fixture(native_directory)
    native = case.run_native([case.erofs_program, native_directory])
    expect_status(native, "exit 0")
    native_lines = decode(native.stdout).splitlines()
    failed_natively = [line for line in native_lines if not line.endswith(" = ok")]
    if failed_natively:
        failures = "\n  ".join(failed_natively)
        raise CaseFailed(f"the helper's writes fail natively, so it is broken:\n  {failures}")

    sandbox_directory = os.path.join(case.work_directory, "sandbox")
    os.mkdir(sandbox_directory)
    make_erofs_fixture(sandbox_directory)
    before = snapshot(sandbox_directory)
    sandboxed = case.run_ward(
        [case.erofs_program, sandbox_directory], do_flags=["--overlay", "none"]
    )
    expect_status(sandboxed, "exit 0")
    expect_no_stderr(sandboxed)
    expected = [line.replace(" = ok", " = -1 EROFS") for line in native_lines]
    actual = decode(sandboxed.stdout).splitlines()
    if actual != expected:
        wrong = [f"{line}   (expected EROFS)" for line in actual if line not in expected]
        listing = "\n  ".join(wrong or actual)
        raise CaseFailed(f"writes to the read-only root did not all fail with EROFS:\n  {listing}")
    if snapshot(sandbox_directory) != before:
        raise CaseFailed("the sandboxed writes changed the host directory")


def require_overlay_option(case):
    """Skip unless `ward do` takes --overlay, which selects the read-only root."""
    help_run = subprocess.run(
        [case.ward, "do", "--help"], capture_output=True, timeout=NATIVE_TIMEOUT_SECONDS
    )
    if b"--overlay" not in help_run.stdout + help_run.stderr:
        raise CaseSkipped("this ward has no --overlay option to select the read-only root")


def snapshot(directory):
    """Return the names, modes, sizes and times under a directory."""
    entries = {}
    for root, directories, files in os.walk(directory):
        for name in directories + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            entries[os.path.relpath(path, directory)] = (
                stat.S_IFMT(info.st_mode),
                info.st_mode,
                info.st_size,
                info.st_mtime_ns,
                info.st_uid,
                info.st_gid,
            )
    return entries


# `ward do` flags. ward gives the guest a default environment, never its
# own, because the caller's may hold secrets.
SECRET_VARIABLE = "WARD_TEST_SECRET"
SECRET_VALUE = "do-not-leak-4f2a"


def run_ward_with_environment(case, do_flags, argv, environment):
    """Run argv under ward with exactly these `ward do` flags and ward's environment."""
    result = run_guarded(
        [case.ward, "do", *do_flags, "--", *argv],
        cwd=case.work_directory,
        env=environment,
        timeout_seconds=WARD_TIMEOUT_SECONDS,
    )
    case._raise_if_broken("ward", result)
    result.status = ward_status(result.returncode, result.stderr)
    return result


def case_env_default(case):
    environment = {**FIXED_ENVIRONMENT, SECRET_VARIABLE: SECRET_VALUE}
    result = run_ward_with_environment(case, [], ["/usr/bin/env"], environment)
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    home = "/root" if os.geteuid() == 0 else "/"
    expected = (
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        f"HOME={home}\nLANG=C.UTF-8\n"
    )
    expect_stdout(result, expected.encode())


def case_env_flags(case):
    environment = {**FIXED_ENVIRONMENT, SECRET_VARIABLE: SECRET_VALUE}
    flags = ["--pass-env", SECRET_VARIABLE, "--pass-env", "UNSET_IN_WARD", "--env", "LANG=C",
             "--env", "EXTRA=a=b"]
    result = run_ward_with_environment(case, flags, ["/usr/bin/env"], environment)
    expect_status(result, "exit 0")
    home = "/root" if os.geteuid() == 0 else "/"
    expected = (
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        f"HOME={home}\nLANG=C\n{SECRET_VARIABLE}={SECRET_VALUE}\nEXTRA=a=b\n"
    )
    expect_stdout(result, expected.encode())


def case_user_ids(case):
    result = case.run_ward(["/bin/sh", "-c", "id -u; id -g; id -G; echo $HOME"],
                           do_flags=["--user", "1000:1000"])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    # The runner's --env HOME=/ replaces the default, so the guest's HOME is /.
    expect_stdout(result, b"1000\n1000\n1000\n/\n")


def case_user_home(case):
    result = run_ward_with_environment(
        case, ["--user", "1000:1000"], ["/bin/sh", "-c", "echo $HOME"], FIXED_ENVIRONMENT
    )
    expect_status(result, "exit 0")
    expect_stdout(result, b"/\n")


def case_hostname_flag(case):
    result = case.run_ward(["uname", "-n"], do_flags=["--hostname", "ward-sandbox"])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expect_stdout(result, b"ward-sandbox\n")


def case_strace_filter(case):
    # Only the named calls are logged, and the guest's own output is apart.
    flags = ["--strace-filter=write,exit_group"]
    result = case.run_ward(["/bin/sh", "-c", "echo hi"], do_flags=flags)
    expect_status(result, "exit 0")
    expect_stdout(result, b"hi\n")
    lines = decode(result.stderr).splitlines()
    calls = [line for line in lines if line.startswith("[ward info] [pid ")]
    if not any(" write(1, " in line and line.endswith(", 3) = 3") for line in calls):
        raise CaseFailed(f"expected the write of hi to be logged\n{describe(result)}")
    for line in calls:
        if " write(" not in line and " exit_group(" not in line:
            raise CaseFailed(f"a call outside the filter was logged: {line}\n{describe(result)}")


# The --strace lines strace_calls must produce, in strace(1)'s form. fd 3
# is the data file, fd 5 the connecting socket.
STRACE_EXPECTED_LINES = [
    'write(1, "hello\\n", 6) = 6',
    'write(3, "12345", 5) = 5',
    "fstat(3, {st_mode=S_IFREG|0644, st_size=5, ...}) = 0",
    "nanosleep({tv_sec=0, tv_nsec=1000000}, NULL) = 0",
    'connect(5, {sa_family=AF_UNIX, sun_path="/tmp/strace.sock"}, 110) = 0',
    'writev(1, [{iov_base="a", iov_len=1}, {iov_base="b", iov_len=1}], 2) = 2',
    "write(1, 0x10, 3) = -1 EFAULT (Bad address)",
]

STRACE_LINE = re.compile(r"^\[ward info\] \[pid \d+\] (.*)$")


def case_strace_decoding(case):
    if not case.strace_program:
        raise CaseFailed("--strace-program is required for this case")
    result = case.run_ward([case.strace_program], do_flags=["--strace"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"hello\nab")
    calls = []
    for line in decode(result.stderr).splitlines():
        match = STRACE_LINE.match(line)
        if match:
            calls.append(match.group(1))
    for expected in STRACE_EXPECTED_LINES:
        if expected not in calls:
            raise CaseFailed(f"expected the line {expected!r}\n{describe(result)}")

    child_signals = [call for call in calls if call.startswith("--- SIGCHLD {")]
    if not any("si_code=CLD_EXITED" in call and "si_status=7," in call for call in child_signals):
        raise CaseFailed(f"expected a SIGCHLD line with CLD_EXITED and status 7\n{describe(result)}")


def case_cwd_flag(case):
    result = case.run_ward(["/bin/pwd"], do_flags=["--cwd", "/usr/bin"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"/usr/bin\n")
    missing = case.run_ward(["/bin/pwd"], do_flags=["--cwd", "/no-such-ward-directory"])
    expect_status(missing, "exit 125")
    expect_stderr_line(
        missing,
        "ward: /no-such-ward-directory: cannot use as the working directory: "
        "No such file or directory",
    )


def make_bind_source(case):
    source = Path(case.work_directory) / "bound"
    source.mkdir()
    (source / "existing").write_bytes(b"host contents\n")
    return source


def case_bind_read_only(case):
    source = make_bind_source(case)
    before = snapshot(source)
    script = "cat /data/existing; echo changed > /data/existing; echo status $?; ls /data"
    result = case.run_ward(["/bin/sh", "-c", script], do_flags=["--bind", f"{source}:/data"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"host contents\nstatus 2\nexisting\n")
    expect_stderr_line(result, "/bin/sh: 1: cannot create /data/existing: Read-only file system")
    if snapshot(source) != before:
        raise CaseFailed("a write to a read-only bind changed the host directory")


def case_bind_read_write(case):
    source = make_bind_source(case)
    script = "echo rewritten > /data/existing; echo appended >> /data/existing; cat /data/existing"
    result = case.run_ward(["/bin/sh", "-c", script],
                           do_flags=["--bind", f"{source}:/data:rw"])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expect_stdout(result, b"rewritten\nappended\n")
    if (source / "existing").read_bytes() != b"rewritten\nappended\n":
        raise CaseFailed(f"the host file holds {(source / 'existing').read_bytes()!r}")


def require_fallocate():
    if not os.access("/usr/bin/fallocate", os.X_OK):
        raise CaseSkipped("/usr/bin/fallocate is not installed (Debian package util-linux)")


def case_bind_read_write_allocate(case):
    """fallocate and the sync calls reach the host file of a read-write bind."""
    require_fallocate()
    source = make_bind_source(case)
    script = (
        "fallocate -l 8192 /data/new && fallocate -p -o 0 -l 4 /data/existing && "
        "sync /data/new && sync -d /data/existing && sync -f /data && sync && "
        "stat -c '%n %s' /data/new /data/existing"
    )
    result = case.run_ward(["/bin/sh", "-c", script],
                           do_flags=["--bind", f"{source}:/data:rw"])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expect_stdout(result, b"/data/new 8192\n/data/existing 14\n")
    new_stat = (source / "new").stat()
    if new_stat.st_size != 8192 or new_stat.st_blocks == 0:
        raise CaseFailed(f"the host file is {new_stat.st_size} bytes in {new_stat.st_blocks} blocks")
    if (source / "existing").read_bytes() != b"\0\0\0\0 contents\n":
        raise CaseFailed(f"the punched host file holds {(source / 'existing').read_bytes()!r}")


def case_tmpfs_allocate_full(case):
    """fallocate on a full tmpfs fails with ENOSPC and leaves no pages behind."""
    require_fallocate()
    script = (
        "fallocate -l 1M /scratch/big; echo status $?; "
        "fallocate -l 32K /scratch/small; echo status $?; "
        "fallocate -l 40K /scratch/other; echo status $?; "
        "stat -c '%n %s %b' /scratch/big /scratch/other /scratch/small"
    )
    result = case.run_ward(["/bin/sh", "-c", script], do_flags=["--tmpfs", "/scratch:size=64K"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"status 1\nstatus 0\nstatus 1\n"
                          b"/scratch/big 0 0\n/scratch/other 0 0\n/scratch/small 32768 64\n")
    expect_stderr_line(result, "fallocate: fallocate failed: No space left on device")


def case_bind_write_drops_set_id(case):
    # A guest write or truncate clears the set-user-ID bit, and the
    # set-group-ID bit of a group-executable file, of a host file in a
    # read-write bind, as Linux does for a writer without CAP_FSETID, so no
    # guest chooses the contents of a host set-id program.
    source = make_bind_source(case)
    modes = {"setuid": 0o4777, "setgid": 0o2775, "setgid-no-exec": 0o2764, "truncated": 0o4755}
    for name, mode in modes.items():
        (source / name).write_bytes(b"#!/bin/sh\n")
        (source / name).chmod(mode)
    script = ("echo appended >> /data/setuid && : > /data/setgid && "
              "echo written > /data/setgid-no-exec && truncate -s 0 /data/truncated")
    result = case.run_ward(["/bin/sh", "-c", script], do_flags=["--bind", f"{source}:/data:rw"])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expected = {"setuid": 0o777, "setgid": 0o775, "setgid-no-exec": 0o2764, "truncated": 0o755}
    for name, mode in expected.items():
        actual = stat.S_IMODE(os.lstat(source / name).st_mode)
        if actual != mode:
            raise CaseFailed(f"the host file {name} has mode {actual:o}, expected {mode:o}")


def case_bind_single_file(case):
    source = make_bind_source(case) / "existing"
    result = case.run_ward(["cat", "/etc/ward-bound-file"],
                           do_flags=["--bind", f"{source}:/etc/ward-bound-file"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"host contents\n")


# Names created, removed and renamed in a read-write bind reach the host;
# a symlink the guest makes still resolves inside the sandbox.
def case_bind_read_write_create(case):
    source = make_bind_source(case)
    passwd_before = Path("/etc/passwd").read_bytes()
    script = (
        "echo new > /data/new && cat /data/new && mkdir /data/dir && "
        "ln -s /etc/passwd /data/x; echo y > /data/x; echo status $?"
    )
    result = case.run_ward(["/bin/sh", "-c", script],
                           do_flags=["--overlay", "none", "--bind", f"{source}:/data:rw"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"new\nstatus 2\n")
    expect_stderr_line(result, "/bin/sh: 1: cannot create /data/x: Read-only file system")
    if (source / "new").read_bytes() != b"new\n" or not (source / "dir").is_dir():
        raise CaseFailed(f"the guest's new file and directory are not on the host: {snapshot(source)}")
    if os.readlink(source / "x") != "/etc/passwd":
        raise CaseFailed("the guest's symlink is not on the host")
    if Path("/etc/passwd").read_bytes() != passwd_before:
        raise CaseFailed("a write through the guest's symlink changed the host's /etc/passwd")


# Each bad flag of `ward do`, with the one line ward prints for it. Exit
# status 2 is ward's status for a bad command line.
BAD_FLAG_MESSAGES = [
    (["--root", "/no-such-ward-root"], "ward: --root: Directory does not exist: /no-such-ward-root"),
    (["--cwd", "relative"],
     "ward: --cwd: invalid working directory 'relative': expected an absolute path inside the "
     "sandbox"),
    (["--hostname", "a/b"], "ward: --hostname: invalid hostname 'a/b': contains '/'"),
    (["--hostname", "h" * 65],
     f"ward: --hostname: invalid hostname '{'h' * 65}': longer than 64 bytes"),
    (["--env", "NOVALUE"],
     "ward: --env: invalid environment assignment 'NOVALUE': expected NAME=VALUE"),
    (["--pass-env", "A=1"],
     "ward: --pass-env: invalid environment variable name 'A=1': contains '='"),
    (["--user", "nobody"],
     "ward: --user: invalid user 'nobody': expected UID:GID, two decimal numbers below "
     "4294967295"),
    (["--overlay", "disk"],
     "ward: --overlay: invalid overlay 'disk': expected memory, none or dir:PATH"),
    (["--overlay", "dir:/nonexistent-ward-upper"],
     "ward: --overlay: overlay directory '/nonexistent-ward-upper' not found: No such file or "
     "directory"),
    (["--overlay", "dir:/etc/hostname"],
     "ward: --overlay: overlay directory '/etc/hostname' is not a directory"),
    (["--overlay-size", "12X"],
     "ward: --overlay-size: invalid size '12X': expected a number of bytes, optionally followed "
     "by K, M or G"),
    (["--bind", "/no-such-ward-source:/data"],
     "ward: --bind: bind source '/no-such-ward-source' not found: No such file or directory"),
    (["--bind", "/tmp:data"],
     "ward: --bind: invalid bind '/tmp:data': the guest path 'data' must be absolute"),
    (["--bind", "/tmp:/data:rx"],
     "ward: --bind: invalid bind '/tmp:/data:rx': the mode 'rx' is neither ro nor rw"),
    (["--tmpfs", "/tmp:mode=1777"],
     "ward: --tmpfs: invalid tmpfs option 'mode=1777' in '/tmp:mode=1777': expected size=BYTES"),
]


def case_bad_flags(case):
    for flags, message in BAD_FLAG_MESSAGES:
        result = case.run_ward(["/bin/true"], do_flags=flags)
        if result.returncode != 2:
            raise CaseFailed(f"{flags}: expected exit code 2\n{describe(result)}")
        if decode(result.stderr) != message + "\n":
            raise CaseFailed(f"{flags}: expected the one stderr line {message!r}\n{describe(result)}")
        expect_stdout(result, b"")


def tree_digest(directory):
    """Return a SHA-256 over every name, type, mode, owner, size, time, link
    count and content (or symlink target) under a directory, itself
    included."""
    digest = hashlib.sha256()
    paths = [directory]
    for root, directories, files in os.walk(directory):
        paths.extend(os.path.join(root, name) for name in directories + files)
    for path in sorted(paths):
        info = os.lstat(path)
        digest.update(os.path.relpath(path, directory).encode() + b"\0")
        digest.update(
            repr(
                (
                    info.st_mode,
                    info.st_uid,
                    info.st_gid,
                    info.st_size,
                    info.st_mtime_ns,
                    info.st_nlink,
                    info.st_ino,
                )
            ).encode()
        )
        if stat.S_ISREG(info.st_mode):
            digest.update(Path(path).read_bytes())
        elif stat.S_ISLNK(info.st_mode):
            digest.update(os.readlink(path).encode())
    return digest.hexdigest()


def file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def require_program(path, package):
    if not os.access(path, os.X_OK):
        raise CaseSkipped(f"{path} is not installed (Debian package {package})")


def case_overlay_gcc(case):
    # Writes land in the overlay's upper layer: the compiler's output in /tmp
    # can be run, and the host's /tmp never sees it.
    require_program("/usr/bin/gcc", "gcc")
    name = f"ward-overlay-{os.getpid()}"
    script = (
        f"cd /tmp && echo 'int main(){{return 0;}}' > {name}.c && "
        f"gcc -o {name} {name}.c && ./{name} && echo ok"
    )
    result = case.run_ward(["/bin/sh", "-c", script], timeout_seconds=50)
    expect_status(result, "exit 0")
    expect_stdout(result, b"ok\n")
    for leftover in (f"/tmp/{name}.c", f"/tmp/{name}"):
        if os.path.lexists(leftover):
            raise CaseFailed(f"the sandboxed compile left {leftover} on the host")


# Every kind of change a guest can make to files it can reach, applied to
# everything in the directory $1: data, modes, owners, times, sizes, hard and
# symbolic links, renames of files and directories, removal.
OVERLAY_VANDAL_SCRIPT = """\
set -u
cd "$1"
find . -mindepth 1 \\( -type f -o -type l \\) > /tmp/ward-vandal-files
while read -r f; do
  echo more >> "$f"
  printf x | dd of="$f" bs=1 seek=1 conv=notrunc 2>/dev/null
  chmod 0777 "$f"; chown -h 1:1 "$f"; touch -h -d @0 "$f"; truncate -s 1 "$f"
  ln "$f" "$f.hard"; ln -s /etc/shadow "$f.symlink"; mv "$f" "$f.moved"
done < /tmp/ward-vandal-files
find . -mindepth 1 -depth -type d > /tmp/ward-vandal-directories
while read -r d; do
  chmod 0700 "$d"; touch "$d/new"; mkdir "$d/new-directory"; mv "$d" "$d.moved"
done < /tmp/ward-vandal-directories
rm -rf -- ./* ./.[!.]*
ls -A | wc -l
"""


def make_vandal_fixture(directory, outside_file):
    tree = Path(directory)
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "empty").mkdir()
    (tree / "plain").write_bytes(b"plain data\n")
    (tree / ".hidden").write_bytes(b"hidden\n")
    (tree / "read-only").write_bytes(b"read-only\n")
    (tree / "read-only").chmod(0o444)
    (tree / "sub" / "deeper" / "nested").write_bytes(b"nested\n" * 1000)
    (tree / "sparse").write_bytes(b"")
    os.truncate(tree / "sparse", 1 << 20)
    os.link(tree / "plain", tree / "sub" / "plain-link")
    os.symlink("plain", tree / "relative-symlink")
    os.symlink(os.path.relpath(outside_file, directory), tree / "outside-symlink")
    (tree / "sub").chmod(0o555)


def case_overlay_host_unchanged(case):
    # A security check: whatever a guest does to a host directory, the host
    # keeps every byte, mode, time and link of it, and of a file outside it
    # that a symlink inside it names.
    directory = os.path.join(case.work_directory, "tree")
    outside = case.write_file("outside-file", b"outside\n", 0o644)
    os.mkdir(directory)
    make_vandal_fixture(directory, outside)
    before = (tree_digest(directory), file_digest(outside), os.lstat(outside).st_mtime_ns)

    result = case.run_ward(["/bin/sh", "-c", OVERLAY_VANDAL_SCRIPT, "sh", directory])
    expect_status(result, "exit 0")
    expect_stdout(result, b"0\n")
    after = (tree_digest(directory), file_digest(outside), os.lstat(outside).st_mtime_ns)
    if after != before:
        raise CaseFailed(f"the guest's changes reached the host tree\n{describe(result)}")

    # The same through the outside symlink, written through.
    script = f"echo overwritten > {directory}/outside-symlink && cat {outside}"
    result = case.run_ward(["/bin/sh", "-c", script])
    expect_status(result, "exit 0")
    expect_stdout(result, b"overwritten\n")
    if file_digest(outside) != before[1]:
        raise CaseFailed("a write through a symlink changed the host file it names")


def case_overlay_symlink_escape(case):
    # A guest symlink whose target climbs above the root ends at the
    # sandbox's own /etc, whose files are copies in memory once changed.
    watched = [path for path in ("/etc/shadow", "/etc/hostname") if os.path.isfile(path)]
    before = {path: (file_digest(path), os.lstat(path).st_mtime_ns) for path in watched}
    script = (
        "ln -s /../../etc/shadow climb && ln -s ../../../../../../../../etc/hostname relative && "
        "echo guest > climb && echo guest > relative && "
        "cat /etc/shadow /etc/hostname && readlink -f climb relative"
    )
    result = case.run_ward(["/bin/sh", "-c", script])
    expect_status(result, "exit 0")
    expect_stdout(result, b"guest\nguest\n/etc/shadow\n/etc/hostname\n")
    after = {path: (file_digest(path), os.lstat(path).st_mtime_ns) for path in watched}
    if after != before:
        raise CaseFailed("a write through a guest symlink changed a host file")
    for name in ("climb", "relative"):
        if os.path.lexists(os.path.join(case.work_directory, name)):
            raise CaseFailed(f"the guest's symlink {name} appeared on the host")


def case_overlay_copy_tree(case):
    # cp -a copies modes, owners, times, links and symlinks into the upper
    # layer. Some symlinks in /usr/share/doc are relative and dangle in the
    # copy, so diff compares the symlinks themselves.
    copy = f"/tmp/ward-doc-copy-{os.getpid()}"
    script = (
        f"cp -a /usr/share/doc {copy} && diff -r --no-dereference /usr/share/doc {copy} && "
        f"echo same"
    )
    result = case.run_ward(["/bin/sh", "-c", script], timeout_seconds=130)
    expect_status(result, "exit 0")
    expect_stdout(result, b"same\n")
    if os.path.lexists(copy):
        raise CaseFailed(f"the sandboxed copy left {copy} on the host")


def case_overlay_tar(case):
    # tar czf and tar xzf of a tree in /tmp: hard links, symlinks, modes and
    # times are written and read back in the upper layer.
    directory = f"/tmp/ward-tar-{os.getpid()}"
    script = f"""\
set -e
mkdir -p {directory}/src/a/b && cd {directory}
echo data > src/a/b/f && ln src/a/b/f src/hard && ln -s a/b/f src/symlink
chmod 0640 src/a/b/f && touch -d @1000000000 src/a/b/f
tar czf t.tgz src && rm -rf src && tar xzf t.tgz
cat src/a/b/f src/symlink
stat -c '%h %a %Y' src/hard
readlink src/symlink
"""
    result = case.run_ward(["/bin/sh", "-c", script])
    expect_status(result, "exit 0")
    expect_stdout(result, b"data\ndata\n2 640 1000000000\na/b/f\n")
    if os.path.lexists(directory):
        raise CaseFailed(f"the sandboxed tar left {directory} on the host")


def case_overlay_writes(case):
    # The erofs_writes helper's writes all succeed on the overlay root, as
    # they do natively, and leave the host directory as it was.
    if not case.erofs_program:
        raise CaseFailed("--erofs-program is required for this case")
    directory = os.path.join(case.work_directory, "sandbox")
    os.mkdir(directory)
    make_erofs_fixture(directory)
    before = tree_digest(directory)
    result = case.run_ward([case.erofs_program, directory])
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    failed = [line for line in decode(result.stdout).splitlines() if not line.endswith(" = ok")]
    if failed:
        listing = "\n  ".join(failed)
        raise CaseFailed(f"writes to the overlay root failed:\n  {listing}")
    if tree_digest(directory) != before:
        raise CaseFailed("the sandboxed writes changed the host directory")



OVERLAY_DIRECTORY_FILE_BYTES = 64 << 20


def find_sentry_with_argument(argument):
    """Return the pid of a ward process whose command line has `argument`, or None."""
    expected = argument.encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            words = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if expected in words and words[0].endswith(b"ward"):
            return int(entry.name)
    return None


def largest_unnamed_file_in(pid, directory):
    """Return the largest (st_size, allocated bytes) among pid's fds on deleted files of directory."""
    largest = (0, 0)
    prefix = directory.rstrip("/") + "/"
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return largest
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if not (target.startswith(prefix) and target.endswith(" (deleted)")):
                continue
            status = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        largest = max(largest, (status.st_size, status.st_blocks * 512))
    return largest


def case_overlay_directory_large_file(case):
    # Under --overlay dir:PATH the data of a 64 MiB guest file is stored in
    # an unnamed host file in PATH, which the sentry keeps open while the
    # guest file exists. The guest reads the data back intact, and PATH is
    # empty when the sandbox ends.
    upper = os.path.join(case.work_directory, "upper")
    os.mkdir(upper)
    source = case.write_file("source", os.urandom(OVERLAY_DIRECTORY_FILE_BYTES), 0o644)
    expected_digest = file_digest(source)
    flag = f"--overlay=dir:{upper}"
    script = f"cp {source} /var/tmp/big && sha256sum /var/tmp/big && sleep 1"
    largest = [(0, 0)]
    done = threading.Event()

    def watch_sentry():
        while not done.is_set():
            pid = find_sentry_with_argument(flag)
            if pid is not None:
                largest[0] = max(largest[0], largest_unnamed_file_in(pid, upper))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch_sentry, daemon=True)
    watcher.start()
    try:
        result = case.run_ward(["/bin/sh", "-c", script], do_flags=[flag], timeout_seconds=50)
    finally:
        done.set()
        watcher.join()
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expect_stdout(result, f"{expected_digest}  /var/tmp/big\n".encode())
    size_bytes, allocated_bytes = largest[0]
    if size_bytes != OVERLAY_DIRECTORY_FILE_BYTES or allocated_bytes < size_bytes:
        raise CaseFailed(
            f"no unnamed file of {OVERLAY_DIRECTORY_FILE_BYTES} bytes was seen in {upper}: "
            f"the largest had {size_bytes} bytes, {allocated_bytes} allocated"
        )
    left = os.listdir(upper)
    if left:
        raise CaseFailed(f"the sandbox left files in {upper}: {left}")


OVERLAY_SHARED_MAP_SCRIPT = """
import mmap, os
path = "/var/tmp/shared"
with open(path, "wb") as f:
    f.write(bytes(4096))
fd = os.open(path, os.O_RDWR)
parent_map = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
parent_map[0:6] = b"parent"
pid = os.fork()
if pid == 0:
    child_fd = os.open(path, os.O_RDWR)
    child_map = mmap.mmap(child_fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    print("child sees", child_map[0:6].decode(), flush=True)
    child_map[8:13] = b"child"
    os._exit(0)
os.waitpid(pid, 0)
print("parent sees", parent_map[8:13].decode())
print("file holds", os.pread(fd, 13, 0).replace(bytes(1), b".").decode())
"""


def case_overlay_directory_shared_map(case):
    # MAP_SHARED on an upper file under --overlay dir:PATH: each of two
    # processes mapping it reads the other's stores, and read() returns
    # both.
    upper = os.path.join(case.work_directory, "upper")
    os.mkdir(upper)
    result = case.run_ward(
        [PYTHON, "-c", OVERLAY_SHARED_MAP_SCRIPT], do_flags=[f"--overlay=dir:{upper}"]
    )
    expect_status(result, "exit 0")
    expect_no_stderr(result)
    expect_stdout(result, b"child sees parent\nparent sees child\nfile holds parent..child\n")
    left = os.listdir(upper)
    if left:
        raise CaseFailed(f"the sandbox left files in {upper}: {left}")


def case_overlay_directory_size_limit(case):
    # --overlay-size limits a dir: overlay as it limits a memory one.
    upper = os.path.join(case.work_directory, "upper")
    os.mkdir(upper)
    script = "head -c 2097152 /dev/zero > /var/tmp/big; echo status $?; stat -c %s /var/tmp/big"
    result = case.run_ward(
        ["/bin/sh", "-c", script], do_flags=[f"--overlay=dir:{upper}", "--overlay-size", "1M"]
    )
    expect_status(result, "exit 0")
    expect_stdout(result, b"status 1\n1048576\n")
    expect_stderr_line(result, "head: error writing 'standard output': No space left on device")
    left = os.listdir(upper)
    if left:
        raise CaseFailed(f"the sandbox left files in {upper}: {left}")

# `ward compat`: the program runs as under `ward do`, then the report is
# written to stderr or to --output.


def run_compat(case, argv, flags=(), stdin_bytes=None):
    return case.run_ward(argv, stdin_bytes, do_flags=flags, subcommand="compat")


def parse_report(data, result):
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        raise CaseFailed(f"the report is not JSON ({error})\n{describe(result)}") from None


def gap_title(gap):
    return f"{gap['syscall']} {gap['detail']}" if gap["detail"] else gap["syscall"]


def counted_gaps(report):
    """Return the gaps that count against the verdict, by title."""
    return {gap_title(gap): gap for gap in report["gaps"] if gap["kind"] != "by_design"}


def stack_functions(gap):
    return {
        frame["function"]
        for stack in gap["stacks"]
        for frame in stack["frames"]
        if frame["function"]
    }


def require_compat_gaps(case):
    if not case.compat_gaps_program:
        raise CaseFailed("--compat-gaps-program is required for this case")


def case_compat_true_no_gaps(case):
    result = run_compat(case, ["/bin/true"], ["--format", "json"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"")
    report = parse_report(result.stderr, result)
    verdict = report["verdict"]
    if verdict["kind"] != "no_gaps":
        raise CaseFailed(f"expected the verdict no_gaps, got {verdict}")
    if counted_gaps(report):
        raise CaseFailed(f"expected only by-design gaps, got {list(counted_gaps(report))}")
    # glibc's rseq registration is left out by design and listed apart.
    if verdict["by_design_gaps"] != list(range(len(report["gaps"]))):
        raise CaseFailed(f"the by-design gaps are not listed apart: {verdict}")
    if report["outcome"] != {"started": True, "exit_status": 0, "signal": None, "start_error": None}:
        raise CaseFailed(f"unexpected outcome {report['outcome']}")
    preflight = report["preflight"]
    if preflight["program"] != "/bin/true" or preflight["kind"] != "dynamic" or not preflight["ok"]:
        raise CaseFailed(f"unexpected preflight {preflight}")


# The gaps compat_gaps hits: title -> (kind, errno, count, the function
# that makes the call).
COMPAT_GAPS = {
    "ioctl FIOASYNC": ("ioctl", "ENOTTY", 3, "hit_fioasync_ioctl"),
    "perf_event_open": ("syscall", "ENOSYS", 2, "hit_missing_syscall"),
    "mmap MAP_HUGETLB": ("argument", "ENOMEM", 1, "hit_hugetlb_flag"),
}


def case_compat_gaps_program(case):
    require_compat_gaps(case)
    result = run_compat(case, [case.compat_gaps_program], ["--format", "json"])
    expect_status(result, "exit 0")
    expect_stdout(result, b"")
    report = parse_report(result.stderr, result)
    if report["verdict"]["kind"] != "survived":
        raise CaseFailed(f"expected the verdict survived, got {report['verdict']}")
    if "hit 3 gaps" not in report["verdict"]["summary"]:
        raise CaseFailed(f"the summary does not count 3 gaps: {report['verdict']['summary']}")
    gaps = counted_gaps(report)
    if sorted(gaps) != sorted(COMPAT_GAPS):
        raise CaseFailed(f"expected the gaps {sorted(COMPAT_GAPS)}, got {sorted(gaps)}")
    for title, (kind, errno_name, count, function) in COMPAT_GAPS.items():
        gap = gaps[title]
        got = (gap["kind"], gap["errno"], gap["count"], gap["pids"], gap["program"])
        expected = (kind, errno_name, count, [1], case.compat_gaps_program)
        if got != expected:
            raise CaseFailed(f"{title}: expected {expected}, got {got}")
        if len(gap["stacks"]) != min(count, 3):
            raise CaseFailed(f"{title}: expected {min(count, 3)} stacks, got {len(gap['stacks'])}")
        functions = stack_functions(gap)
        if function not in functions or "main" not in functions:
            raise CaseFailed(f"{title}: the stacks name {sorted(functions)}, not {function} and main")
    # Most frequent first.
    if gap_title(report["gaps"][0]) != "ioctl FIOASYNC":
        raise CaseFailed(f"the first gap is {gap_title(report['gaps'][0])}, not ioctl FIOASYNC")


def case_compat_failed_after_gap(case):
    require_compat_gaps(case)
    result = run_compat(case, [case.compat_gaps_program, "fail"])
    expect_status(result, "exit 3")
    expect_stdout(result, b"")
    expect_stderr_line(
        result,
        "verdict: the program failed (exit status 3); the last gaps it hit before that: "
        "ioctl FIOASYNC, mmap MAP_HUGETLB, perf_event_open",
    )
    expect_stderr_line(result, "gaps (3, most frequent first):")
    expect_stderr_line(result, "left out by design (1, not counted in the verdict):")


def case_compat_preflight_missing_loader(case):
    require_busybox()
    root = Path(case.work_directory) / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    # A dynamic binary whose loader the root lacks.
    shutil.copy2("/bin/true", root / "bin" / "true")
    flags = ["--preflight", "--root", str(root), "--cwd", "/", "--format", "json"]

    result = run_compat(case, ["/bin/true"], flags)
    expect_status(result, "exit 1")
    expect_stdout(result, b"")
    report = parse_report(result.stderr, result)
    preflight = report["preflight"]
    if report["verdict"]["kind"] != "not_run" or report["outcome"]["started"]:
        raise CaseFailed(f"expected a report of a program that did not run, got {report}")
    if preflight["kind"] != "dynamic" or preflight["ok"]:
        raise CaseFailed(f"expected a failed preflight of a dynamic binary, got {preflight}")
    errors = [finding for finding in preflight["findings"] if finding["severity"] == "error"]
    if len(errors) != 1 or errors[0]["subject"] != preflight["interpreter"]:
        raise CaseFailed(f"expected one error naming the loader, got {errors}")
    if "loader (PT_INTERP) is missing from the root" not in errors[0]["message"]:
        raise CaseFailed(f"the error does not say the loader is missing: {errors[0]}")

    static = run_compat(case, ["busybox", "echo", "not run"], flags)
    expect_status(static, "exit 0")
    expect_stdout(static, b"")
    preflight = parse_report(static.stderr, static)["preflight"]
    if preflight["program"] != "/bin/busybox" or preflight["kind"] != "static" or not preflight["ok"]:
        raise CaseFailed(f"expected a passing preflight of the static /bin/busybox, got {preflight}")


def case_compat_output_file(case):
    report_path = Path(case.work_directory) / "report.json"
    script = "echo out; echo err >&2; exit 7"
    result = run_compat(case, ["/bin/sh", "-c", script],
                        ["--format", "json", "--output", str(report_path)])
    expect_status(result, "exit 7")
    expect_stdout(result, b"out\n")
    if result.stderr != b"err\n":
        raise CaseFailed(f"expected only the program's stderr line\n{describe(result)}")
    report = parse_report(report_path.read_bytes(), result)
    if report["outcome"]["exit_status"] != 7 or report["verdict"]["kind"] != "failed":
        raise CaseFailed(f"the report does not record exit status 7: {report['outcome']}")

    markdown_path = Path(case.work_directory) / "report.md"
    result = run_compat(case, ["/bin/echo", "hello"],
                        ["--format", "markdown", "--output", str(markdown_path)])
    expect_status(result, "exit 0")
    expect_stdout(result, b"hello\n")
    expect_no_stderr(result)
    markdown = markdown_path.read_text()
    if not markdown.startswith("# ward compat: `/bin/echo hello`\n\n**Verdict:** no gaps"):
        raise CaseFailed(f"unexpected Markdown report:\n{markdown}")


# Each bad flag of `ward compat`, with the one line ward prints for it.
# The program never runs.
COMPAT_BAD_FLAG_MESSAGES = [
    (["--format", "yaml"],
     "ward: --format: invalid report format 'yaml': expected text, json or markdown"),
    (["--output", ""], "ward: --output: invalid report file '': expected a file path"),
    (["--output="],
     "ward: --output: invalid report file '--': starts with '-'; write ./NAME for a file whose "
     "name starts with a dash"),
    (["--output", "/no-such-ward-directory/report"],
     "ward: --output: cannot open '/no-such-ward-directory/report': No such file or directory"),
    (["--overlay", "disk"],
     "ward: --overlay: invalid overlay 'disk': expected memory, none or dir:PATH"),
]


def case_compat_bad_flags(case):
    for flags, message in COMPAT_BAD_FLAG_MESSAGES:
        result = run_compat(case, ["/bin/echo", "ran"], flags)
        if result.returncode != 2:
            raise CaseFailed(f"{flags}: expected exit code 2\n{describe(result)}")
        if decode(result.stderr) != message + "\n":
            raise CaseFailed(f"{flags}: expected the one stderr line {message!r}\n{describe(result)}")
        expect_stdout(result, b"")
    leftovers = sorted(path.name for path in Path(case.work_directory).iterdir())
    if leftovers:
        raise CaseFailed(f"a rejected command line created files: {leftovers}")


# Real programs that write files: databases, version control, builds and
# byte-compiled Python. Each case runs a shell script natively on a new
# directory in the work directory and under ward on a new directory in /tmp,
# which the overlay keeps in memory, so the host's /tmp must not get it.


def require_real_program(path, package):
    """Fail, rather than skip, when a program these cases need is missing,
    because scripts/install-deps installs it."""
    if not os.access(path, os.X_OK):
        raise CaseFailed(
            f"{path} is missing; install the Debian package {package} (scripts/install-deps)"
        )


def output_lines(data):
    return decode(data).splitlines()


def expect_script_same_as_native(
    case, label, script, stdin_bytes=None, arguments=(), timeout_seconds=WARD_TIMEOUT_SECONDS
):
    """Run `sh -c script sh DIRECTORY ARGUMENTS...` natively and under ward and
    require equal stdout, stderr and status. The script makes DIRECTORY
    itself. Under ward DIRECTORY is /tmp/ward-LABEL-PID, which must not
    appear on the host."""
    native_directory = os.path.join(case.work_directory, label)
    sandbox_directory = f"/tmp/ward-{label}-{os.getpid()}"
    native = case.run_native(
        ["/bin/sh", "-c", script, "sh", native_directory, *arguments], stdin_bytes
    )
    if native.status != "exit 0":
        raise CaseFailed(f"the native run failed, so it cannot be the oracle: {describe(native)}")
    sandboxed = case.run_ward(
        ["/bin/sh", "-c", script, "sh", sandbox_directory, *arguments],
        stdin_bytes,
        timeout_seconds=timeout_seconds,
    )
    if not runs_match(native, sandboxed, output_lines):
        raise CaseFailed(difference_report(native, sandboxed, output_lines))
    if os.path.lexists(sandbox_directory):
        raise CaseFailed(f"the sandboxed run left {sandbox_directory} on the host")
    return native


SQLITE = "/usr/bin/sqlite3"
SQLITE_ROWS = 3000

# The SQL fed to sqlite3 by the two single-process cases, after their
# journal_mode pragma. A cache of 10 pages makes the big transaction spill
# changed pages into the database file before COMMIT, so the ROLLBACK
# after it has to restore them from the rollback journal or the WAL.
SQLITE_SESSION = (
    "PRAGMA cache_size=10;\n"
    "CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL);\n"
    "BEGIN;\n"
    + "".join(
        f"INSERT INTO item(name, price) VALUES ('item-{i}', {i * 37 % 1000});\n"
        for i in range(1, SQLITE_ROWS + 1)
    )
    + "COMMIT;\n"
    "CREATE INDEX item_price ON item(price);\n"
    "SELECT count(*), sum(price), min(name), max(name) FROM item;\n"
    "SELECT id, name FROM item WHERE price = 37 ORDER BY id;\n"
    "EXPLAIN QUERY PLAN SELECT name FROM item WHERE price = 37;\n"
    "BEGIN;\n"
    "UPDATE item SET name = name || '-changed';\n"
    "DELETE FROM item WHERE id % 2 = 0;\n"
    "ROLLBACK;\n"
    "SELECT count(*), sum(price), max(name) FROM item;\n"
    "UPDATE item SET price = price + 1 WHERE id % 3 = 0;\n"
    "DELETE FROM item WHERE id > 2500;\n"
    "SELECT count(*), sum(price) FROM item;\n"
    "PRAGMA integrity_check;\n"
)

# The second sqlite3 process reads what the first one committed, and ls
# shows that closing the last connection removed the journal or the WAL.
SQLITE_SCRIPT = """\
set -e
mkdir "$1" && cd "$1"
sqlite3 t.db
sqlite3 t.db 'PRAGMA journal_mode; SELECT count(*), sum(price) FROM item; PRAGMA integrity_check;'
ls
"""


def run_sqlite_session(case, label, journal_mode):
    require_real_program(SQLITE, "sqlite3")
    session = f"PRAGMA journal_mode={journal_mode};\n" + SQLITE_SESSION
    native = expect_script_same_as_native(case, label, SQLITE_SCRIPT, session.encode())
    # The oracle itself must show the journal mode and the rows.
    lines = decode(native.stdout).splitlines()
    if lines[0] != journal_mode.lower() or f"{SQLITE_ROWS}|" not in decode(native.stdout):
        raise CaseFailed(f"the native sqlite3 run printed unexpected output:\n{describe(native)}")


def case_sqlite_rollback_journal(case):
    run_sqlite_session(case, "sqlite-journal", "DELETE")


def case_sqlite_wal(case):
    run_sqlite_session(case, "sqlite-wal", "WAL")


# A writer and a reader in WAL mode: while the writer's transaction is
# open, a reader sees the last commit. The writer reads its SQL from a
# FIFO, so the script decides when it commits. wait_for polls the
# writer's output at most 1000 times, 10 ms apart.
SQLITE_WAL_TWO_PROCESSES_SCRIPT = """\
set -eu
mkdir "$1" && cd "$1"
wait_for() {
  tries=0
  until grep -qx "$1" writer.out; do
    tries=$((tries + 1))
    if [ "$tries" -gt 1000 ]; then echo "timed out waiting for $1" >&2; exit 1; fi
    sleep 0.01
  done
}
sqlite3 t.db 'PRAGMA journal_mode=WAL; CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);'
mkfifo writer.in
sqlite3 t.db < writer.in > writer.out &
exec 3> writer.in
echo "BEGIN; INSERT INTO t SELECT x + 10 FROM t; SELECT 'inserted';" >&3
wait_for inserted
echo "reader during the write: $(sqlite3 t.db 'SELECT count(*), sum(x) FROM t')"
ls t.db*
echo "COMMIT; SELECT 'committed';" >&3
wait_for committed
echo "reader after the commit: $(sqlite3 t.db 'SELECT count(*), sum(x) FROM t')"
exec 3>&-
wait
cat writer.out
sqlite3 t.db 'PRAGMA journal_mode; PRAGMA integrity_check;'
"""


def case_sqlite_wal_two_processes(case):
    require_real_program(SQLITE, "sqlite3")
    native = expect_script_same_as_native(
        case, "sqlite-wal-two", SQLITE_WAL_TWO_PROCESSES_SCRIPT
    )
    if b"reader during the write: 3|6\n" not in native.stdout:
        raise CaseFailed(f"the native reader did not see the last commit:\n{describe(native)}")


GIT = "/usr/bin/git"

# Commits need an identity, and -c gives it without a configuration file.
# Hashes and dates differ from run to run, so only counts, names and
# contents are printed.
GIT_SCRIPT = """\
set -eu
mkdir "$1" && cd "$1"
identity="-c user.name=Ward -c user.email=ward@example.com"
git init -q -b main .
echo one > a.txt
mkdir sub && echo two > sub/b.txt && echo three > sub/c.txt
git add .
git $identity commit -q -m first
echo four >> a.txt && git rm -q sub/c.txt
git add a.txt
git $identity commit -q -m second
git log --oneline | wc -l
git log --format=%s
git status --porcelain | wc -l
git ls-files
git show HEAD:a.txt
git diff --stat HEAD~1 HEAD | tail -n 1
git fsck --no-progress 2>&1 | wc -l
"""


def case_git_commit(case):
    require_real_program(GIT, "git")
    native = expect_script_same_as_native(case, "git", GIT_SCRIPT)
    if not native.stdout.startswith(b"2\nsecond\nfirst\n"):
        raise CaseFailed(f"the native git run did not make two commits:\n{describe(native)}")


# A build with a header dependency: the first make compiles and links,
# the second has nothing to do, and touching the header rebuilds the
# objects, which needs nanosecond file times.
MAKE_SCRIPT = """\
set -eu
mkdir "$1" && cd "$1"
echo 'const char *greeting(void);' > greet.h
printf '#include "greet.h"\\nconst char *greeting(void) { return "hello from make"; }\\n' > greet.c
printf '#include <stdio.h>\\n#include "greet.h"\\nint main(void) { puts(greeting()); return 0; }\\n' > main.c
printf 'hello: main.o greet.o\\n\\tcc -o $@ main.o greet.o\\n%.o: %.c greet.h\\n\\tcc -c -o $@ $<\\n' > Makefile
make
./hello
make
touch greet.h
make
./hello
"""


def case_make_project(case):
    require_real_program("/usr/bin/make", "make")
    require_real_program("/usr/bin/cc", "gcc")
    native = expect_script_same_as_native(case, "make", MAKE_SCRIPT, timeout_seconds=50)
    if b"make: 'hello' is up to date.\n" not in native.stdout:
        raise CaseFailed(f"the native second make rebuilt hello:\n{describe(native)}")


# compileall writes __pycache__ directories next to the sources, and the
# import afterwards loads the .pyc files. Their names carry the Python
# version, which is the same in both runs.
PYTHON_COMPILEALL_SCRIPT = """\
set -eu
mkdir -p "$1/pkg/sub" && cd "$1"
echo 'VALUE = 1' > pkg/__init__.py
echo 'def double(x): return 2 * x' > pkg/mod.py
echo 'SQUARES = [i * i for i in range(4)]' > pkg/sub/__init__.py
python3 -m compileall -q pkg
find pkg -name '*.pyc' | sort
python3 -c 'import os, pkg.mod, pkg.sub
print(pkg.VALUE, pkg.mod.double(21), pkg.sub.SQUARES, os.path.relpath(pkg.mod.__cached__))'
"""


def case_python_compileall(case):
    native = expect_script_same_as_native(case, "compileall", PYTHON_COMPILEALL_SCRIPT)
    # Three .pyc files listed by find, then the one the import loaded.
    if native.stdout.count(b".pyc\n") != 4:
        raise CaseFailed(f"the native compileall wrote other .pyc files:\n{describe(native)}")


# tempfile makes its directories and files in /tmp (TMPDIR is unset), and the
# sqlite3 module writes a database there. The program also writes a file
# in the directory that the case checks for on the host.
PYTHON_TEMPFILE_PROGRAM = """\
import json, os, sqlite3, sys, tempfile
print(tempfile.gettempdir())
with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "data.db")
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT)")
    with connection:
        connection.executemany(
            "INSERT INTO kv VALUES (?, ?)",
            [(f"k{i}", json.dumps({"i": i, "square": i * i})) for i in range(500)],
        )
    rows = connection.execute("SELECT v FROM kv WHERE k IN ('k7', 'k499') ORDER BY k").fetchall()
    print([json.loads(v) for (v,) in rows])
    connection.close()
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".json", delete=False) as handle:
        json.dump({"rows": 500}, handle)
    with open(handle.name) as handle:
        print(json.load(handle), os.path.dirname(handle.name) == directory)
    with tempfile.TemporaryFile() as handle:
        handle.write(b"x" * 100000)
        handle.seek(0)
        print(len(handle.read()))
    # The JSON file's name has a random part.
    print(sorted(name if name.endswith(".db") else "*.json" for name in os.listdir(directory)))
print(os.path.exists(directory))
with open(sys.argv[1], "w") as handle:
    handle.write("written\\n")
with open(sys.argv[1]) as handle:
    print(handle.read(), end="")
os.unlink(sys.argv[1])
"""


def case_python_tempfile_sqlite(case):
    script = 'mkdir "$1" && exec python3 -c "$2" "$1/written"'
    expect_script_same_as_native(
        case, "tempfile", script, arguments=[PYTHON_TEMPFILE_PROGRAM]
    )


# `find / -xdev` natively stops at the host's mounts, and under ward at
# the sandbox's own /proc, /sys and /dev. The rest of the host root contains
# build trees and /tmp, which other tests change while this case runs, so
# the shared objects are counted within /usr only, which has no mount
# below it. The second find checks that -xdev enters none of the mounts.
FIND_SCRIPT = """\
set -eu
find /usr -xdev -name '*.so*' | wc -l
find / -xdev -maxdepth 2 \\( -path '/proc/*' -o -path '/sys/*' -o -path '/dev/*' \\) -print | wc -l
find / -xdev -maxdepth 1 \\( -name proc -o -name sys -o -name dev \\) | sort
"""


def case_find_shared_objects(case):
    native, _ = expect_same_as_native(case, ["/bin/sh", "-c", FIND_SCRIPT])
    count = int(decode(native.stdout).splitlines()[0])
    if count < 100:
        raise CaseFailed(f"the native find counted only {count} shared objects in /usr")


def fd_links(data):
    """Return the mode, size and link of descriptors 3 and 4 in `ls -l` output."""
    lines = []
    for line in decode(data).splitlines():
        fields = line.split()
        if len(fields) == 11 and fields[8] in ("3", "4"):
            lines.append(" ".join([fields[0], fields[4], *fields[8:]]))
    return lines


def maps_without_addresses(data):
    """Return the sorted mappings of /proc/self/maps without their
    addresses, which ASLR changes from run to run."""
    return sorted(" ".join(line.split()[1:]) for line in decode(data).splitlines())


def case_proc_self_fd_maps(case):
    # ls -l reads each link of its own fd directory, and the descriptors the
    # shell opened show their paths. The write opens a new file, which must
    # stay in the sandbox, so ward runs first.
    input_path = case.write_file("input", b"input\n", 0o644)
    output_path = os.path.join(case.work_directory, "output")
    fd_script = 'exec 3< "$1" 4>> "$2" && ls -l /proc/self/fd/'
    fd_argv = ["/bin/sh", "-c", fd_script, "sh", input_path, output_path]
    sandboxed = case.run_ward(fd_argv)
    if os.path.lexists(output_path):
        raise CaseFailed(f"the sandboxed run created {output_path} on the host")
    native = case.run_native(fd_argv)
    expect_status(native, "exit 0")
    if len(fd_links(native.stdout)) != 2:
        raise CaseFailed(f"the native ls did not list descriptors 3 and 4:\n{describe(native)}")
    if not runs_match(native, sandboxed, fd_links):
        raise CaseFailed(difference_report(native, sandboxed, fd_links))

    native, _ = expect_same_as_native(
        case, ["cat", "/proc/self/maps"], filter_output=maps_without_addresses
    )
    if not any(line.endswith(" /usr/bin/cat") for line in maps_without_addresses(native.stdout)):
        raise CaseFailed(f"the native maps do not name /usr/bin/cat:\n{describe(native)}")


# Fills a file inside a sparse 64 MiB extent, 1 MiB at a time, and prints
# how many bytes fit and the errno that stopped the writes.
SPARSE_FILL_SCRIPT = """
import errno, os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
os.ftruncate(fd, 64 << 20)
total, stop = 0, "none"
for i in range(64):
    try:
        written = os.pwrite(fd, b"x" * (1 << 20), i << 20)
    except OSError as error:
        stop = errno.errorcode[error.errno]
        break
    total += written
print(sys.argv[1], "limited" if total <= 4 << 20 else f"{total} bytes", stop)
"""


def case_overlay_size_sparse(case):
    # The size limits of the overlay and of a tmpfs count the pages that a
    # write into a hole allocates, so a sparse file cannot pass them. A
    # copy-up larger than the limit fails with ENOSPC as a write would.
    require_program(PYTHON, "python3")
    large = case.write_file("large", b"y" * (8 << 20), 0o644)
    flags = ["--overlay-size", "4M", "--tmpfs", "/w:size=4M"]
    result = case.run_ward([PYTHON, "-c", SPARSE_FILL_SCRIPT, "/tmp/ward-sparse"], do_flags=flags)
    expect_status(result, "exit 0")
    expect_stdout(result, b"/tmp/ward-sparse limited ENOSPC\n")

    copy_up = (
        f"import errno, os\n"
        f"try:\n    os.open({large!r}, os.O_WRONLY)\n    print('opened')\n"
        f"except OSError as error:\n    print(errno.errorcode[error.errno])\n"
    )
    result = case.run_ward([PYTHON, "-c", SPARSE_FILL_SCRIPT + copy_up, "/w/sparse"],
                           do_flags=flags)
    expect_status(result, "exit 0")
    expect_stdout(result, b"/w/sparse limited ENOSPC\nENOSPC\n")


CASES = {
    name.removeprefix("case_"): function
    for name, function in globals().items()
    if name.startswith("case_")
}


def parse_arguments():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ward", required=True, help="path of the ward binary")
    parser.add_argument("--case", required=True, choices=sorted(CASES), help="the case to run")
    parser.add_argument(
        "--erofs-program", help="path of the erofs_writes helper, for the erofs_writes case"
    )
    parser.add_argument(
        "--static-pie-program", help="path of the static_pie helper, for the static_pie case"
    )
    parser.add_argument(
        "--futex-storm-program", help="path of the futex_storm helper, for the futex_storm case"
    )
    parser.add_argument(
        "--int80-program", help="path of the int80_gate helper, for the int80 cases"
    )
    parser.add_argument(
        "--strace-program", help="path of the strace_calls helper, for the strace_decoding case"
    )
    parser.add_argument(
        "--compat-gaps-program",
        help="path of the compat_gaps helper, for the compat cases",
    )
    return parser.parse_args()


def main():
    options = parse_arguments()
    install_sigterm_handler()
    # The runs start in a temporary directory, so relative paths would break.
    options.ward = str(Path(options.ward).resolve())
    for name in ("erofs_program", "static_pie_program", "futex_storm_program",
                 "compat_gaps_program"):
        if getattr(options, name):
            setattr(options, name, str(Path(getattr(options, name)).resolve()))
    if not os.access(options.ward, os.X_OK):
        print(f"error: the ward binary {options.ward} is missing or not executable; build it first")
        return 2
    os.umask(0o022)
    work_directory = tempfile.mkdtemp(prefix="ward-integration-")
    try:
        CASES[options.case](Case(options, work_directory))
    except CaseSkipped as skipped:
        print(f"SKIP: {skipped}")
        return EXIT_SKIPPED
    except CaseFailed as failure:
        print(f"FAIL: {options.case}: {failure}")
        return 1
    finally:
        shutil.rmtree(work_directory, ignore_errors=True)
    print(f"PASS: {options.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
