"""Small helpers for the local services: detached background processes, pidfiles, ports and log tails."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Runs "$@" in the background with stdin from /dev/null and stdout+stderr appended to "$log", then prints
# its pid. The shell exits at once, so the service is re-parented away from the caller (no zombie, no
# Popen object left behind) and, with start_new_session, it is in its own session and process group.
_DETACH_SCRIPT = 'log="$1"; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'


class LocalInfraError(RuntimeError):
    """A local service could not be installed, started, stopped or reached."""


def tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a text file, or a note saying it does not exist."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except FileNotFoundError:
        return f"({path} does not exist)"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def file_size(path: Path) -> int:
    """The size of a file in bytes, 0 when it does not exist."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def tail_since(path: Path, offset: int, lines: int = 30) -> str:
    """The last `lines` lines written to `path` after byte `offset` ("" if none; from 0 if it was rotated)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = offset if offset <= size else 0
            handle.seek(max(start, size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", errors="replace").strip().splitlines()[-lines:])


def failure(message: str, log: Path, lines: int = 30) -> LocalInfraError:
    """An error naming the log to read, with its last lines."""
    return LocalInfraError(f"{message}\nSee {log}; last lines:\n{tail(log, lines)}")


def read_pid(pidfile: Path) -> int | None:
    """The pid recorded in a pidfile (first line), or None when missing or unreadable."""
    try:
        first = pidfile.read_text().splitlines()[0].strip()
        return int(first)
    except (OSError, IndexError, ValueError):
        return None


def pid_alive(pid: int, expect: str | None = None) -> bool:
    """Whether `pid` is a live (non-zombie) process; with `expect`, its command line must contain it."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own exited child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    proc = Path("/proc") / str(pid)
    try:
        stat = (proc / "stat").read_text()
        if stat[stat.rindex(")") + 2 :].startswith(("Z", "X")):
            return False
        if expect is not None:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            return expect in cmdline
    except (OSError, ValueError):
        return proc.exists() if Path("/proc/self").exists() else True
    return True


def is_running(pidfile: Path, expect: str | None = None) -> bool:
    """Whether the process named by `pidfile` is alive (and its command line contains `expect`, if given)."""
    pid = read_pid(pidfile)
    return pid is not None and pid_alive(pid, expect)


def start_detached(
    cmd: Sequence[str],
    *,
    log_file: Path,
    pidfile: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start `cmd` detached in its own session, output appended to `log_file`; write and return its pid.

    Raises LocalInfraError if `pidfile` already names a live process.
    """
    existing = read_pid(pidfile)
    if existing is not None and pid_alive(existing):
        raise LocalInfraError(f"{pidfile} names a running process (pid {existing}); stop it first")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    log_file.touch()
    try:
        result = subprocess.run(
            ["/bin/sh", "-c", _DETACH_SCRIPT, "sh", str(log_file), *cmd],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            check=True,
            timeout=30,
            text=True,
        )
        pid = int(result.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise LocalInfraError(f"could not start {cmd[0]}: {exc}") from exc
    pidfile.write_text(f"{pid}\n")
    return pid


def stop_pid(pid: int, timeout: float = 15.0) -> bool:
    """SIGTERM `pid`, wait up to `timeout` s, then SIGKILL; True if it had to be killed."""
    if not pid_alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return False
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    return True


def stop(pidfile: Path, timeout: float = 15.0, expect: str | None = None) -> str:
    """Stop the process named by `pidfile` (SIGTERM, then SIGKILL after `timeout` s) and remove the pidfile.

    Returns what happened: "stopped", "killed" or "not running".
    """
    pid = read_pid(pidfile)
    if pid is None or not pid_alive(pid, expect):
        pidfile.unlink(missing_ok=True)
        return "not running"
    killed = stop_pid(pid, timeout)
    pidfile.unlink(missing_ok=True)
    return "killed" if killed else "stopped"


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float, pid: int | None = None) -> bool:
    """Wait until host:port accepts connections; False on timeout or as soon as `pid` (if given) dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port, timeout=1.0):
            return True
        if pid is not None and not pid_alive(pid):
            return False
        time.sleep(0.2)
    return False
