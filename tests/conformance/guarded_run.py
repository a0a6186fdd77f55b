"""Run a command in its own session, with a timeout and a check for leftover processes.

The conformance and integration runners both use this module. A command
starts as the leader of a new session, so every process it creates, including
ward's stub processes, carries its session id unless it calls setsid itself.
After the command exits, any process still alive in the session counts as
leaked, and so does any process elsewhere that still has the command's stdout
or stderr open. A leaked process is listed with its command line and killed
with SIGKILL, and the caller fails the test. A command that times out has
its whole session killed.
"""

import dataclasses
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

# Time the processes of a session get to finish dying after the leader
# exits. ward's stubs are killed through PTRACE_O_EXITKILL when ward exits,
# and the host kernel delivers that SIGKILL asynchronously.
LEAK_GRACE_SECONDS = 1.0
LEAK_POLL_SECONDS = 0.02
# Time the output pipes get to reach end of file once the session is gone.
PIPE_DRAIN_SECONDS = 2.0

WARD_SIGNAL_MESSAGE = re.compile(rb"^ward: .* killed by signal (\d+)", re.MULTILINE)


@dataclasses.dataclass
class RunResult:
    argv: list
    stdout: bytes
    stderr: bytes
    returncode: int
    timeout_seconds: float
    timed_out: bool
    # Processes of the session alive at the timeout, one description each.
    killed_on_timeout: list
    # Processes that outlived the session leader, one description each.
    leaked: list
    # "exit N" or "signal N", for callers that store the normalised status.
    status: str = ""

    def problems(self):
        """Return the reasons this run cannot be compared, as sentences."""
        reasons = []
        if self.timed_out:
            killed = "\n  ".join(self.killed_on_timeout)
            reasons.append(f"timed out after {self.timeout_seconds} s, killed:\n  {killed}")
        if self.leaked:
            leaked = "\n  ".join(self.leaked)
            reasons.append(
                f"processes left alive after the command exited, now killed:\n  {leaked}"
            )
        return reasons


def install_sigterm_handler():
    """Turn SIGTERM into SystemExit, so that a running session is killed on the way out."""

    def exit_on_sigterm(signal_number, frame):
        raise SystemExit(128 + signal_number)

    signal.signal(signal.SIGTERM, exit_on_sigterm)


def ward_environment_flags(env):
    """Return the `ward do` flags that give the guest exactly the variables of env.

    ward gives the guest a small default environment of its own (PATH, HOME,
    TERM when ward has it, LANG) instead of ward's, so a runner that expects
    the guest to see env passes each variable with --env. The defaults come
    first and env's variables replace them in place, so a guest whose env has
    PATH, HOME and LANG first gets env's variables in env's order, as a
    native run does.
    """
    flags = []
    for name, value in env.items():
        flags += ["--env", f"{name}={value}"]
    return flags


def native_status(returncode):
    """Describe a native wait status as 'exit N' or 'signal N'."""
    if returncode < 0:
        return f"signal {-returncode}"
    return f"exit {returncode}"


def ward_status(returncode, stderr):
    """Describe ward's exit as the guest's status, 'exit N' or 'signal N'.

    ward exits with 128 + N when the guest was killed by signal N, and then
    prints 'ward: PROGRAM killed by signal N' on stderr. The message
    distinguishes a signal from a guest that called exit(128 + N).
    """
    if returncode > 128:
        for match in WARD_SIGNAL_MESSAGE.finditer(stderr):
            if int(match.group(1)) == returncode - 128:
                return f"signal {returncode - 128}"
    return native_status(returncode)


def _session_of(pid):
    """Return (session id, state) of a process, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces and ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, session = fields[0], int(fields[3])
    return session, state


def _command_line(pid):
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "(exited)"
    words = raw.rstrip(b"\0").split(b"\0")
    line = " ".join(word.decode(errors="backslashreplace") for word in words)
    return line or "(no command line)"


def _describe(pids):
    return [f"pid {pid}: {_command_line(pid)}" for pid in pids]


def live_session_members(session_id):
    """Return the pids of processes in the session that are not zombies."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        found = _session_of(int(entry.name))
        if found is None:
            continue
        session, state = found
        if session == session_id and state not in ("Z", "X"):
            members.append(int(entry.name))
    return sorted(members)


def kill_session_member(pid, session_id):
    """Send SIGKILL to one process, only if it is still in the session.

    A pidfd pins the process, so a pid that was recycled after the session
    check is never signalled.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        found = _session_of(pid)
        if found is not None and found[0] == session_id:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(pidfd)


def kill_session(session_id, rounds=50):
    """Kill every live process of the session, retrying while new ones appear."""
    for _ in range(rounds):
        members = live_session_members(session_id)
        if not members:
            return
        for pid in members:
            kill_session_member(pid, session_id)
        time.sleep(LEAK_POLL_SECONDS)


def collect_leaks(session_id):
    """Wait up to LEAK_GRACE_SECONDS for the session to empty, then kill and describe what is left.

    Returns one description per process still alive, or [] when none is.
    """
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    members = live_session_members(session_id)
    while members and time.monotonic() < deadline:
        time.sleep(LEAK_POLL_SECONDS)
        members = live_session_members(session_id)
    leaked = _describe(members)
    if members:
        kill_session(session_id)
    return leaked


def _pipe_holders(pipe_inodes):
    """Return the pids, other than this process, that have one of the pipes open."""
    targets = {f"pipe:[{inode}]" for inode in pipe_inodes}
    holders = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = os.scandir(f"/proc/{entry.name}/fd")
            for fd in fds:
                if os.readlink(fd.path) in targets:
                    holders.add(int(entry.name))
                    break
        except OSError:
            continue
    return sorted(holders)


def _kill_pipe_holder(pid, pipe_inodes):
    """Send SIGKILL to a process through a pidfd, if it still has one of the pipes open."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if pid in _pipe_holders(pipe_inodes):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(pidfd)


class _PipeReader(threading.Thread):
    """Collects everything written to one pipe until every writer closes it."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.data = bytearray()

    def run(self):
        descriptor = self.pipe.fileno()
        while True:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return
            self.data += chunk


def _feed_stdin(pipe, data):
    try:
        pipe.write(data)
        pipe.close()
    except OSError:
        pass  # the program exited or closed its stdin without reading it all


def run_guarded(argv, *, cwd, env, timeout_seconds, stdin_bytes=None):
    """Run argv as a new session leader and return a RunResult.

    stdin is stdin_bytes, or /dev/null when it is None. On timeout the whole
    session is killed and the result has timed_out set. After the leader
    exits, processes of its session, and processes anywhere that still have
    its stdout or stderr open, count as leaked and are killed.
    """
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
    )
    session_id = process.pid
    try:
        return _supervise(process, session_id, timeout_seconds, stdin_bytes)
    except BaseException:
        kill_session(session_id)
        process.wait()
        raise


def _supervise(process, session_id, timeout_seconds, stdin_bytes):
    pipes = (process.stdout, process.stderr)
    pipe_inodes = {os.fstat(pipe.fileno()).st_ino for pipe in pipes}
    readers = [_PipeReader(pipe) for pipe in pipes]
    for reader in readers:
        reader.start()
    if stdin_bytes is not None:
        feeder = threading.Thread(
            target=_feed_stdin, args=(process.stdin, stdin_bytes), daemon=True
        )
        feeder.start()

    timed_out = False
    killed_on_timeout = []
    leaked = []
    try:
        process.wait(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        killed_on_timeout = _describe(live_session_members(session_id))
        kill_session(session_id)
        process.wait()
    if not timed_out:
        leaked = collect_leaks(session_id)

    # With the session gone, only a process that left it can still have the
    # output pipes open, and the readers would wait for it forever.
    for reader in readers:
        reader.join(PIPE_DRAIN_SECONDS)
    if any(reader.is_alive() for reader in readers):
        for pid in _pipe_holders(pipe_inodes):
            leaked.append(f"pid {pid}: {_command_line(pid)} (outside the session, with stdout "
                          "or stderr open)")
            _kill_pipe_holder(pid, pipe_inodes)
        for reader in readers:
            reader.join(PIPE_DRAIN_SECONDS)
    for pipe, reader in zip(pipes, readers):
        if not reader.is_alive():
            pipe.close()

    return RunResult(
        argv=list(process.args),
        stdout=bytes(readers[0].data),
        stderr=bytes(readers[1].data),
        returncode=process.returncode,
        timeout_seconds=timeout_seconds,
        timed_out=timed_out,
        killed_on_timeout=killed_on_timeout,
        leaked=leaked,
    )
