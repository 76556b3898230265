"""Runs one command for the command backend, detached from Dispatch so the run outlives it.

    python -I path/to/command_runner.py <run_dir>     (how CommandBackend starts it)
    python -m bot.backends.command_runner <run_dir>   (equivalent)

It reads `<run_dir>/spec.json`, starts the command without a shell in a process group of its
own, streams the command's stdout/stderr into files (never into memory), stops the command
once stdout passes `max_output` bytes, and finally writes `exit.json` exactly once. Dispatch
reads those files, so a run that finished while Dispatch was down is still reported.

Standard library only, so it runs under `python -I` without the project on sys.path. The
command backend imports the file names and the process helpers below from here, so both sides
agree on the layout of a run directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SPEC = "spec.json"
"""Written by the backend: argv, cwd, stdin file name, max_output (plus the backend's own keys)."""
STDIN = "stdin"
STDOUT = "stdout"
STDERR = "stderr"
PIDS = "pids.json"
"""Written by the runner once the command started: runner and command pids and identities."""
EXIT = "exit.json"
"""Written once, by whoever finishes the run first (normally the runner)."""
CANCEL = "cancel"
"""Marker written by the backend before it signals the runner: the stop is a cancel."""
RUNNER_LOG = "runner.log"
"""The runner's own stderr, for diagnosing a runner that crashed."""

TERM_GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL when stopping the command's process group."""
PIPE_GRACE = 2.0
"""Seconds the output pipes may stay open after the command exited (a leftover background
process holding them) before that process group is killed."""
STDERR_KEEP = 1_000_000
"""Bytes of stderr written to the file; past that only a rolling tail is kept."""
STDERR_TAIL = 64 * 1024
_CHUNK = 64 * 1024


# --- process helpers (shared with the backend) ---------------------------------------------


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) from /proc/<pid>/stat, or None if unavailable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def _have_proc() -> bool:
    return Path("/proc/self/stat").exists()


def process_identity(pid: int) -> str | None:
    """A token that changes if `pid` is reused (boot id + start time); None without /proc."""
    stat = _proc_stat(pid)
    if stat is None:
        return None
    return f"{_boot_id()}:{stat[1]}"


def this_boot(identity: str | None) -> bool:
    """Whether a process recorded as `identity` ran on this machine since its last boot: its
    process ids mean nothing on another host (a replica adopting a dead one's work with a
    shared state folder) or after a reboot."""
    return identity is not None and identity.split(":", 1)[0] == _boot_id() != ""


def process_alive(pid: int, identity: str | None = None) -> bool:
    """Whether `pid` runs and is still the process recorded as `identity` (zombies are dead)."""
    if pid <= 0:
        return False
    stat = _proc_stat(pid)
    if stat is not None:
        if stat[0] in ("Z", "X"):
            return False
        return identity is None or f"{_boot_id()}:{stat[1]}" == identity
    if _have_proc():
        return False  # /proc works, so there is no such process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_alive(pgid: int) -> bool:
    """Whether the process group still has a live (non-zombie) member.

    Zombies count as gone: a killed grandchild is re-parented to init and may stay a zombie
    for a while, which must not hold up a cancel until the SIGKILL deadline.
    """
    if pgid <= 1:
        return False
    if not _have_proc():
        return kill_group(pgid, 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def kill_group(pgid: int, sig: int) -> bool:
    """Signal a whole process group; False if it no longer exists."""
    if pgid <= 1:
        return False
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def write_json(path: Path, data: dict[str, Any], *, exclusive: bool = False) -> bool:
    """Write atomically (readers never see half a file). `exclusive`: only if absent.

    Returns False if `exclusive` and the file already existed (someone else won the race).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    if not exclusive:
        os.replace(tmp, path)
        return True
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:
        # A filesystem without hard links: not atomic against a concurrent writer, but the
        # only other writer (the backend) writes only after it saw the runner dead.
        if path.exists():
            return False
        os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)
    return True


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`, or None if the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --- the runner ------------------------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Run:
    """One command run: the child, its output pumps and the reason it was stopped, if any."""

    def __init__(self, run_dir: Path, spec: dict[str, Any]) -> None:
        self.dir = run_dir
        self.argv: list[str] = [str(a) for a in spec["argv"]]
        self.cwd: str | None = spec.get("cwd")
        self.stdin: str | None = spec.get("stdin")
        self.max_output = int(spec["max_output"])
        self.stop_reason: str | None = None
        self.stop_message = ""
        self.stop_at: float | None = None
        self._lock = threading.RLock()  # request_stop may run in a signal handler
        self.child: subprocess.Popen[bytes] | None = None
        self.pipes_incomplete = False

    def request_stop(self, reason: str, message: str = "") -> None:
        """First reason wins; the main loop does the TERM → KILL escalation."""
        with self._lock:
            if self.stop_reason is not None:
                return
            self.stop_reason, self.stop_message = reason, message
            self.stop_at = time.monotonic()
        if self.child is not None:
            kill_group(self.child.pid, signal.SIGTERM)

    # -- start -----------------------------------------------------------------------------

    def start(self) -> str | None:
        """Start the command; returns a start error message (and starts nothing) on failure."""
        program = self.argv[0]
        if self.cwd is not None and not os.path.isdir(self.cwd):
            return f"working directory {self.cwd!r} does not exist"
        stdin: Any = subprocess.DEVNULL
        if self.stdin:
            stdin = open(self.dir / self.stdin, "rb")  # closed in the finally below
        try:
            self.child = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                process_group=0,  # its own group: cancel and the output limit kill all of it
                close_fds=True,
            )
        except FileNotFoundError as exc:
            if self.cwd is not None and exc.filename == self.cwd:
                return f"working directory {self.cwd!r} does not exist"
            return f"command {program!r} not found"
        except PermissionError:
            return f"command {program!r} is not executable (permission denied)"
        except OSError as exc:
            return f"command {program!r} could not start: {exc.strerror or exc}"
        except ValueError as exc:  # e.g. a NUL byte in an argument
            return f"command {program!r} could not start: {exc}"
        finally:
            if self.stdin:
                stdin.close()
        return None

    # -- output ----------------------------------------------------------------------------

    def pump_stdout(self, fd: int) -> None:
        """Copy stdout to its file, up to max_output; then keep draining (and dropping)."""
        kept = 0
        over = False
        out = os.open(self.dir / STDOUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while chunk := os.read(fd, _CHUNK):
                if over:
                    continue
                room = self.max_output - kept
                if len(chunk) > room:
                    _write_all(out, chunk[:room])
                    kept, over = self.max_output, True
                    self.request_stop(
                        "output_limit",
                        f"output limit exceeded: more than {self.max_output} bytes",
                    )
                else:
                    _write_all(out, chunk)
                    kept += len(chunk)
        finally:
            os.close(out)

    def pump_stderr(self, fd: int) -> None:
        """Copy stderr to its file up to STDERR_KEEP bytes, then keep only a rolling tail."""
        kept = 0
        dropped = 0
        tail = bytearray()
        out = os.open(self.dir / STDERR, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while chunk := os.read(fd, _CHUNK):
                if kept < STDERR_KEEP:
                    part = chunk[: STDERR_KEEP - kept]
                    _write_all(out, part)
                    kept += len(part)
                    chunk = chunk[len(part) :]
                if chunk:
                    tail += chunk
                    if len(tail) > STDERR_TAIL:
                        dropped += len(tail) - STDERR_TAIL
                        del tail[: len(tail) - STDERR_TAIL]
            if tail:
                if dropped:
                    _write_all(out, f"\n[... {dropped} bytes of stderr omitted ...]\n".encode())
                _write_all(out, bytes(tail))
        finally:
            os.close(out)

    # -- wait ------------------------------------------------------------------------------

    def wait(self) -> int:
        """Wait for the command, escalating a requested stop from SIGTERM to SIGKILL."""
        child = self.child
        assert child is not None
        killed = False
        while True:
            try:
                return child.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
            if self.stop_at is not None and not killed:
                if time.monotonic() - self.stop_at >= TERM_GRACE:
                    kill_group(child.pid, signal.SIGKILL)
                    killed = True

    def finish_group(self, pumps: list[threading.Thread]) -> None:
        """After the command exited: let the pipes drain; kill what is left of its group.

        A stopped run's group is killed outright (after the rest of the TERM grace), so a
        grandchild that ignored SIGTERM does not outlive a cancel. A run that ended on its own
        keeps its background processes unless they hold our pipes open past PIPE_GRACE.
        """
        child = self.child
        assert child is not None
        if self.stop_at is not None:
            deadline = self.stop_at + TERM_GRACE
            while time.monotonic() < deadline and group_alive(child.pid):
                time.sleep(0.05)
            kill_group(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + PIPE_GRACE
        for pump in pumps:
            pump.join(max(0.0, deadline - time.monotonic()))
        if any(p.is_alive() for p in pumps):
            kill_group(child.pid, signal.SIGKILL)
            for pump in pumps:
                pump.join(1.0)
            # Still open: held by a process outside the group. Output may be cut short.
            self.pipes_incomplete = any(p.is_alive() for p in pumps)


def _max_rss() -> int | None:
    """The runner's peak resident memory in KiB (a diagnostic: output is never buffered).

    VmHWM, not getrusage: ru_maxrss survives exec, so it would report Dispatch's own size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _exit_record(run: _Run, returncode: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "returncode": returncode if returncode >= 0 else None,
        "signal": -returncode if returncode < 0 else None,
        "reason": "exited",
        "message": "",
        "finished": time.time(),
        "runner_max_rss": _max_rss(),
        "output_incomplete": run.pipes_incomplete,
    }
    if (run.dir / CANCEL).exists():
        record.update(reason="canceled", message="canceled")
    elif run.stop_reason == "output_limit":
        record.update(reason="output_limit", message=run.stop_message)
    elif run.stop_reason is not None:
        record.update(reason="stopped", message=run.stop_message)
    return record


def run(run_dir: Path) -> int:
    """Run the command described in `run_dir`; always leaves an exit.json behind."""
    spec = read_json(run_dir / SPEC)
    if spec is None:
        print(f"command_runner: no readable {SPEC} in {run_dir}", file=sys.stderr)
        write_json(
            run_dir / EXIT,
            {"reason": "runner_error", "message": f"no readable {SPEC}", "finished": time.time()},
            exclusive=True,
        )
        return 2
    current = _Run(run_dir, spec)

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        current.request_stop("stopped", f"the run was stopped: its runner received {name}")

    # Python-level handlers (not SIG_IGN): exec resets them, so the command gets defaults.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    error = current.start()
    if error is not None:
        write_json(
            run_dir / EXIT,
            {"reason": "start_error", "message": error, "finished": time.time()},
            exclusive=True,
        )
        return 1
    child = current.child
    assert child is not None and child.stdout is not None and child.stderr is not None
    try:
        write_json(
            run_dir / PIDS,
            {
                "runner": os.getpid(),
                "runner_identity": process_identity(os.getpid()),
                "child": child.pid,
                "child_identity": process_identity(child.pid),
                "started": time.time(),
            },
        )
        pumps = [
            threading.Thread(target=current.pump_stdout, args=(child.stdout.fileno(),)),
            threading.Thread(target=current.pump_stderr, args=(child.stderr.fileno(),)),
        ]
        for pump in pumps:
            pump.daemon = True
            pump.start()
        if (run_dir / CANCEL).exists():  # cancelled while we were starting up
            current.request_stop("canceled", "canceled")
        elif current.stop_reason is not None:  # a signal arrived before the child existed
            kill_group(child.pid, signal.SIGTERM)
        returncode = current.wait()
        current.finish_group(pumps)
        write_json(run_dir / EXIT, _exit_record(current, returncode), exclusive=True)
    except BaseException as exc:
        kill_group(child.pid, signal.SIGKILL)
        write_json(
            run_dir / EXIT,
            {
                "reason": "runner_error",
                "message": f"the command's runner failed: {type(exc).__name__}: {exc}",
                "finished": time.time(),
            },
            exclusive=True,
        )
        raise
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: command_runner.py <run_dir>", file=sys.stderr)
        return 2
    return run(Path(args[0]))


if __name__ == "__main__":
    # Leave without waiting for pump threads stuck on a pipe held by an escaped process.
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
