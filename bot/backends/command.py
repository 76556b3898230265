"""Command backend: each brief runs a command-line agent (a coding agent, a script, a local
model runner) once, without a shell.

A run is a directory `runs_dir/<run id>` plus a small detached runner process
(`command_runner.py`, in its own session) that starts the command, streams its output into
files and writes `exit.json` when it ends. The run id is the remote task id. Because the
runner owns the command and the result lives on disk, Dispatch can stop (or crash) mid-run:
the command keeps going, and a new process reads the result with `get`/`watch`.

Nothing is ever interpreted by a shell or formatted: argv elements are used as written,
except elements that are exactly "{brief}" (input: arg) or "{session_id}" (resume_argv).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from bot import render
from bot.backends import command_runner as runner
from bot.backends.base import MAX_RESULT_BYTES, BackendError
from bot.backends.config import SECRET_ENV_NAMES, CommandBackendConfig
from bot.models import AgentEvent

logger = logging.getLogger(__name__)

__all__ = ["CommandBackend"]

RUNNER_SCRIPT = Path(runner.__file__).resolve()
READ = "read"
"""Marker: a terminal result was handed to Dispatch, so the run dir may be pruned later."""
_MESSAGES = "_messages"
"""runs_dir/_messages/<sha256 of message id>: which run a message started (de-duplication)."""
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_START_TIMEOUT = 30.0
"""Seconds a runner may take to start the command (Python start-up on a loaded machine)."""
_CANCEL_WAIT = runner.TERM_GRACE + 2.0
_TAIL_LINES = 20
_TAIL_CHARS = 2000
_TAIL_BYTES = 64 * 1024
_RETENTION = 24 * 3600.0
"""Finished runs whose result was read are kept this long (a restart may ask again)."""
_UNREAD_RETENTION = 30 * 24 * 3600.0
"""Finished runs nobody ever asked about (their task was dropped) are kept this long."""
_PRUNE_EVERY = 3600.0

_RUNNERS: dict[str, subprocess.Popen[bytes]] = {}
"""Runner processes this process started, by run dir. Process-wide (not per backend) so a
runner outlives the backend object that started it and is still reaped, not left a zombie;
dropping a running Popen would also warn."""

_MISSING = object()

BASIC_ENV = frozenset({"PATH", "HOME", "LANG", "TZ", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR"})
"""What a command agent gets from Dispatch's environment by default (plus LC_*)."""
WITHHELD_PREFIXES = ("DISPATCH_", "SLACK_", "DISCORD_", "OPENAI_", "ANTHROPIC_", "OPENCLAW_")
"""Dispatch's own settings and tokens: never inherited, even with inherit_env."""
_SESSION_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+=/-]{0,255}")
"""A captured session id: it goes into argv, so it may not start with "-" (a flag) or hold
spaces, quotes or control characters."""


def withheld(name: str) -> bool:
    """Whether a variable of Dispatch's environment is one of its secrets."""
    return name.upper().startswith(WITHHELD_PREFIXES) or name in SECRET_ENV_NAMES


def valid_session_id(value: str) -> bool:
    return _SESSION_ID.fullmatch(value) is not None


class CommandBackend:
    """`Backend` for one command-line agent; see the module docstring."""

    def __init__(
        self,
        config: CommandBackendConfig,
        *,
        runs_dir: Path,
        workdir: Path | None = None,
        poll_interval: float = 0.2,
        max_result_bytes: int = MAX_RESULT_BYTES,
    ) -> None:
        """`workdir`: the agent's own working directory when the manifest sets no `cwd`
        (created on first use; default: `<runs_dir>-work`)."""
        self.config = config
        self.runs_dir = Path(runs_dir)
        self.workdir = (
            Path(workdir)
            if workdir is not None
            else self.runs_dir.with_name(self.runs_dir.name + "-work")
        )
        self.max_result_bytes = max_result_bytes
        self.poll_interval = poll_interval
        self._closed = False
        self._pruned_at = 0.0

    # --- configuration ----------------------------------------------------------------

    @property
    def program(self) -> str:
        return self.config.argv[0]

    def _cwd(self) -> str:
        """The command's working directory: config.cwd (with ~), else the agent's own."""
        if self.config.cwd is None:
            return os.path.abspath(self.workdir)
        return os.path.abspath(os.path.expanduser(self.config.cwd))

    def _env(self) -> dict[str, str]:
        """The basic variables (or all, with inherit_env) and pass_env, minus Dispatch's
        secrets; then the manifest's `env:` as written."""
        wanted = set(self.config.pass_env)
        env = {
            name: value
            for name, value in os.environ.items()
            if (
                self.config.inherit_env
                or name in BASIC_ENV
                or name.startswith("LC_")
                or name in wanted
            )
            and not withheld(name)
        }
        env.setdefault("PATH", os.defpath)
        env.update({k: v.get_secret_value() for k, v in self.config.env.items()})
        return env

    def available(self) -> str | None:
        """None if the agent's program(s) and working directory exist, else a short reason."""
        cwd = self._cwd()
        if self.config.cwd is not None and not os.path.isdir(cwd):
            return f"working directory {cwd!r} does not exist"
        programs = [self.config.argv[0]]
        if self.config.session is not None:
            programs.append(self.config.session.resume_argv[0])
        path = self._env().get("PATH", os.defpath)
        for program in dict.fromkeys(programs):
            if os.sep in program:
                full = os.path.join(cwd, program)  # an absolute program stays as it is
                if not os.path.exists(full):
                    return f"command {program!r} not found"
                if not os.path.isfile(full) or not os.access(full, os.X_OK):
                    return f"command {program!r} is not executable"
            elif shutil.which(program, path=path) is None:
                return f"command {program!r} not found on PATH"
        return None

    def _argv(self, text: str, context_id: str | None) -> tuple[list[str], bool]:
        """The argv for this run and whether it resumes a session. Whole-element swaps only."""
        session = self.config.session
        resume = bool(context_id) and session is not None
        if resume and context_id and not valid_session_id(context_id):
            # Stored before ids were checked: never an argv element; start a new session.
            logger.warning("command %r: session id %r is not a plain id", self.program, context_id)
            resume = False
        template = session.resume_argv if resume and session is not None else self.config.argv
        if self.config.input == "arg" and "{brief}" not in template:
            raise BackendError(
                f'command {template[0]!r}: input is "arg" but resume_argv has no "{{brief}}" element'
            )
        if self.config.input == "arg" and "\0" in text:
            raise BackendError("the brief contains a NUL character, which no argument can hold")
        argv: list[str] = []
        for element in template:
            if element == "{brief}" and self.config.input == "arg":
                argv.append(text)
            elif element == "{session_id}" and resume and context_id:
                argv.append(context_id)
            else:
                argv.append(element)
        return argv, resume

    # --- Backend protocol -------------------------------------------------------------

    async def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """Run the command for one brief; see `Backend.send`.

        A message id that already started a run (Dispatch crashed before it recorded the run
        id and now resends) attaches to that run instead of running the command twice.
        `remote_task_id` is ignored: a command never asks a question mid-run.
        """
        if self._closed:
            raise BackendError(f"the backend for command {self.program!r} is closed")
        await self._maybe_prune()
        existing = self._run_for_message(message_id)
        if existing is not None:
            run_id, spec = existing
            logger.info("message %s already started run %s; following it", message_id, run_id)
            context_id = spec.get("context_id")
        else:
            run_id = self._start(text, message_id, context_id, metadata or {})
            await self._await_start(run_id)
        yield AgentEvent(state="working", remote_task_id=run_id, context_id=context_id)
        async for event in self._follow(run_id):
            yield event

    async def get(self, remote_task_id: str) -> AgentEvent:
        """The run's state from its files; a dead runner without a result is a failure."""
        event = await asyncio.to_thread(self._state, remote_task_id)
        if event.terminal:
            self._delivered(remote_task_id)
        return event

    async def watch(self, remote_task_id: str) -> AsyncGenerator[AgentEvent, None]:
        """Poll the run until it ends; yields only the terminal event."""
        async for event in self._follow(remote_task_id):
            yield event

    async def cancel(self, remote_task_id: str) -> None:
        """Stop the run's whole process group (SIGTERM, SIGKILL after a grace period).

        Returns once the run is recorded as ended. A finished or unknown run is left alone.
        """
        try:
            run, _ = self._open(remote_task_id)
        except BackendError:
            logger.debug("cancel of unknown run %s ignored", remote_task_id)
            return
        if (run / runner.EXIT).exists():
            _touch(run / READ)
            return
        _touch(run / runner.CANCEL)
        pids = runner.read_json(run / runner.PIDS) or {}
        runner_pid = int(pids.get("runner") or 0)
        if self._runner_alive(run, pids):
            _signal(runner_pid, signal.SIGTERM)  # the runner escalates to SIGKILL itself
            deadline = time.monotonic() + _CANCEL_WAIT
            while time.monotonic() < deadline and not (run / runner.EXIT).exists():
                if not self._runner_alive(run, pids):
                    break
                await asyncio.sleep(0.05)
        if not (run / runner.EXIT).exists():
            # The runner is dead or stuck: finish the job ourselves.
            if self._runner_alive(run, pids):
                _signal(runner_pid, signal.SIGKILL)
            if pids.get("child"):
                runner.kill_group(int(pids["child"]), signal.SIGKILL)
            runner.write_json(
                run / runner.EXIT,
                {"reason": "canceled", "message": "canceled", "finished": time.time()},
                exclusive=True,
            )
        _touch(run / READ)

    async def aclose(self) -> None:
        """Nothing to stop: runs keep going by design and are reconciled later."""
        self._closed = True
        _reap_all()

    # --- runs -------------------------------------------------------------------------

    def _open(self, run_id: str) -> tuple[Path, dict[str, Any]]:
        """The run dir and spec of a known run; BackendError for anything else."""
        if not _RUN_ID.fullmatch(run_id):
            raise BackendError(f"unknown run {run_id!r} for command {self.program!r}")
        run = self.runs_dir / run_id
        spec = runner.read_json(run / runner.SPEC)
        if spec is None:
            raise BackendError(
                f"unknown run {run_id!r} for command {self.program!r} (no record in {self.runs_dir})"
            )
        return run, spec

    def _index(self, message_id: str) -> Path:
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
        return self.runs_dir / _MESSAGES / digest

    def _run_for_message(self, message_id: str) -> tuple[str, dict[str, Any]] | None:
        entry = runner.read_json(self._index(message_id))
        if entry is None or entry.get("message_id") != message_id:
            return None
        run_id = str(entry.get("run", ""))
        try:
            run, spec = self._open(run_id)
        except BackendError:
            return None
        record = runner.read_json(run / runner.EXIT)
        if record is not None and record.get("reason") == "start_error":
            return None
        return run_id, spec

    def _start(
        self, text: str, message_id: str, context_id: str | None, metadata: dict[str, str]
    ) -> str:
        """Create the run dir and launch its runner (detached: a session of its own)."""
        argv, resumed = self._argv(text, context_id)
        run_id = uuid.uuid4().hex
        run = self.runs_dir / run_id
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # briefs live here
            if self.config.cwd is None:
                self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.runs_dir / _MESSAGES).mkdir(exist_ok=True, mode=0o700)
            run.mkdir(mode=0o700)
            if self.config.input == "stdin":
                (run / runner.STDIN).write_bytes(text.encode("utf-8", "surrogatepass"))
            runner.write_json(
                run / runner.SPEC,
                {
                    "argv": argv,
                    "cwd": self._cwd(),
                    "stdin": runner.STDIN if self.config.input == "stdin" else None,
                    "max_output": self.config.max_output,
                    "message_id": message_id,
                    "context_id": context_id if resumed else None,
                    "capture_session": self.config.session is not None and not resumed,
                    "metadata": metadata,
                    "created": time.time(),
                },
            )
            with open(run / runner.RUNNER_LOG, "wb") as log:
                process = subprocess.Popen(
                    [sys.executable or "python3", "-I", str(RUNNER_SCRIPT), str(run)],
                    cwd=run,
                    env=self._env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,  # Ctrl-C, Dispatch's exit or crash: not our runs
                    close_fds=True,
                )
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the environment
            shutil.rmtree(run, ignore_errors=True)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise BackendError(f"command {self.program!r} could not be started: {reason}") from exc
        _RUNNERS[str(run)] = process
        try:
            runner.write_json(self._index(message_id), {"run": run_id, "message_id": message_id})
        except OSError as exc:
            logger.warning("could not record run %s for message %s: %s", run_id, message_id, exc)
        return run_id

    async def _await_start(self, run_id: str) -> None:
        """Wait until the runner started the command; a start failure is a BackendError."""
        run, spec = self._open(run_id)
        deadline = time.monotonic() + _START_TIMEOUT
        delay = 0.005
        while True:
            runner_done = _reap(run)
            if (run / runner.PIDS).exists():
                return
            record = runner.read_json(run / runner.EXIT)
            if record is not None:
                if record.get("reason") == "start_error":
                    self._discard(run, spec)
                    raise BackendError(str(record.get("message") or "the command did not start"))
                return
            if runner_done:
                log = _tail_text(run / runner.RUNNER_LOG)
                self._discard(run, spec)
                raise BackendError(
                    f"the runner for command {self.program!r} failed to start"
                    + (f": {log}" if log else "")
                )
            if time.monotonic() > deadline:
                process = _RUNNERS.get(str(run))
                if process is not None:
                    process.kill()
                self._discard(run, spec)
                raise BackendError(
                    f"command {self.program!r} did not start within {_START_TIMEOUT:.0f} s"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.poll_interval)

    def _discard(self, run: Path, spec: dict[str, Any]) -> None:
        """Forget a run that never started (no one has its id)."""
        shutil.rmtree(run, ignore_errors=True)
        message_id = spec.get("message_id")
        if isinstance(message_id, str):
            self._index(message_id).unlink(missing_ok=True)

    async def _follow(self, run_id: str) -> AsyncGenerator[AgentEvent, None]:
        while True:
            event = await asyncio.to_thread(self._state, run_id)
            if event.terminal:
                try:
                    yield event
                finally:
                    # Reached only once the consumer has the event (resumed or closed us).
                    self._delivered(run_id)
                return
            await asyncio.sleep(self.poll_interval)

    def _delivered(self, run_id: str) -> None:
        """Mark the result as handed over: from now on the run dir may be pruned (later)."""
        _touch(self.runs_dir / run_id / READ)

    def _runner_alive(self, run: Path, pids: dict[str, Any]) -> bool:
        _reap(run)
        pid = int(pids.get("runner") or 0)
        return runner.process_alive(pid, pids.get("runner_identity"))

    def _state(self, run_id: str) -> AgentEvent:
        """The run's current event, read from its files (blocking: run it in a thread)."""
        run, spec = self._open(run_id)
        record = runner.read_json(run / runner.EXIT)
        if record is None:
            pids = runner.read_json(run / runner.PIDS)
            if (run / runner.CANCEL).exists():
                if pids is not None and self._runner_alive(run, pids):
                    # A cancel that was interrupted (say Dispatch died mid-cancel): repeat it.
                    _signal(int(pids.get("runner") or 0), signal.SIGTERM)
                return AgentEvent(state="canceled", remote_task_id=run_id, text="canceled")
            if pids is not None and self._runner_alive(run, pids):
                return self._working(run_id, spec)
            if pids is None and not _reap(run):
                created = float(spec.get("created") or 0)
                if time.time() - created < _START_TIMEOUT:
                    return self._working(run_id, spec)
            record = runner.read_json(run / runner.EXIT)  # it may have just finished
            if record is None:
                record = self._runner_died(run, pids)
        return self._terminal(run_id, run, spec, record)

    @staticmethod
    def _working(run_id: str, spec: dict[str, Any]) -> AgentEvent:
        return AgentEvent(state="working", remote_task_id=run_id, context_id=spec.get("context_id"))

    def _runner_died(self, run: Path, pids: dict[str, Any] | None) -> dict[str, Any]:
        """Record (once) that the runner vanished without a result; stop what it left."""
        if pids is not None and pids.get("child") and runner.this_boot(pids.get("runner_identity")):
            runner.kill_group(int(pids["child"]), signal.SIGKILL)
        log = _tail_text(run / runner.RUNNER_LOG)
        record = {
            "reason": "runner_died",
            "message": "the command's runner died" + (f": {log}" if log else ""),
            "finished": time.time(),
        }
        runner.write_json(run / runner.EXIT, record, exclusive=True)
        return runner.read_json(run / runner.EXIT) or record

    def _terminal(
        self, run_id: str, run: Path, spec: dict[str, Any], record: dict[str, Any]
    ) -> AgentEvent:
        """The terminal event for a finished run, from its exit record and output files."""
        program = str(spec["argv"][0])
        context_id = spec.get("context_id")
        reason = record.get("reason")

        def failed(text: str) -> AgentEvent:
            return AgentEvent(
                state="failed", remote_task_id=run_id, context_id=context_id, text=text
            )

        if reason == "canceled":
            return AgentEvent(
                state="canceled", remote_task_id=run_id, context_id=context_id, text="canceled"
            )
        if reason != "exited":
            return failed(f"command {program!r} failed: {record.get('message') or reason}")
        if record.get("signal"):
            name = _signal_name(int(record["signal"]))
            return failed(_with_tail(f"command {program!r} was killed by signal {name}", run))
        code = record.get("returncode")
        if code != 0:
            return failed(_with_tail(f"command {program!r} exited with code {code}", run))
        return self._completed(run_id, run, spec, program)

    def _completed(self, run_id: str, run: Path, spec: dict[str, Any], program: str) -> AgentEvent:
        field = self.config.result_json
        # Plain output is read only as far as the result cap (one byte more shows the cut);
        # JSON, or a session id to find, needs all of it (at most max_output).
        whole = bool(field) or bool(spec.get("capture_session"))
        stdout = _read_text(run / runner.STDOUT, None if whole else self.max_result_bytes)
        unread = not whole and _size(run / runner.STDOUT) > self.max_result_bytes
        context_id = spec.get("context_id")
        text = stdout
        if field:
            documents = _json_documents(stdout)
            if not documents:
                start = stdout.strip()[:200]
                return AgentEvent(
                    state="failed",
                    remote_task_id=run_id,
                    context_id=context_id,
                    text=f"command {program!r} did not print JSON (result_json: {field!r})"
                    + (f"; its output began: {start}" if start else "; it printed nothing"),
                )
            value = next(
                (v for v in (_dotted(d, field) for d in reversed(documents)) if v is not _MISSING),
                _MISSING,
            )
            if value is _MISSING:
                return AgentEvent(
                    state="failed",
                    remote_task_id=run_id,
                    context_id=context_id,
                    text=f"command {program!r} printed JSON without a value at {field!r}",
                )
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        session = self.config.session
        if spec.get("capture_session") and session is not None:
            captured = self._capture(stdout, run)
            if captured:
                context_id = captured
            else:
                how = (
                    f"capture_json {session.capture_json!r}"
                    if session.capture_json
                    else f"capture_pattern {session.capture_pattern!r}"
                )
                logger.warning(
                    "command %r run %s: no session id found with %s; the next run starts a new session",
                    program,
                    run_id,
                    how,
                )
        return AgentEvent(
            state="completed",
            remote_task_id=run_id,
            context_id=context_id,
            text=render.result_cut(text.rstrip().lstrip("\r\n"), self.max_result_bytes, cut=unread),
        )

    def _capture(self, stdout: str, run: Path) -> str | None:
        """The session id of a first run: a JSON field, or a pattern (stdout, then stderr)."""
        session = self.config.session
        if session is None:
            return None
        found: str | None = None
        if session.capture_json:
            for document in _json_documents(stdout):
                value = _dotted(document, session.capture_json)
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                    found = str(value)
                    break
        elif session.capture_pattern:
            pattern = re.compile(session.capture_pattern)
            # Some CLIs print the session id on stderr (e.g. a "session id: …" banner).
            for text in (stdout, _read_text(run / runner.STDERR)):
                match = pattern.search(text)
                if match and match.group(1):
                    found = match.group(1)
                    break
        if found is not None and not valid_session_id(found):
            # It would become an argv element of the next run: never a flag, never junk.
            logger.warning(
                "command %r: captured session id %r is not a plain id", self.program, found
            )
            return None
        return found

    # --- housekeeping -----------------------------------------------------------------

    async def _maybe_prune(self) -> None:
        _reap_all()
        now = time.time()
        if now - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            await asyncio.to_thread(self.prune, now)
        except OSError as exc:
            logger.warning("pruning %s failed: %s", self.runs_dir, exc)

    def prune(self, now: float | None = None) -> int:
        """Delete finished runs whose result was read a day ago (unread: after 30 days).

        Unfinished runs are never touched. Returns how many run dirs were deleted.
        """
        now = time.time() if now is None else now
        if not self.runs_dir.is_dir():
            return 0
        removed = 0
        for entry in self.runs_dir.iterdir():
            if not _RUN_ID.fullmatch(entry.name):
                continue
            try:
                finished = (entry / runner.EXIT).stat().st_mtime
            except OSError:
                continue
            age = now - finished
            if age > _UNREAD_RETENTION or (age > _RETENTION and (entry / READ).exists()):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        messages = self.runs_dir / _MESSAGES
        if messages.is_dir():
            for index in messages.iterdir():
                entry_data = runner.read_json(index)
                run_id = str((entry_data or {}).get("run", ""))
                if not _RUN_ID.fullmatch(run_id) or not (self.runs_dir / run_id).exists():
                    index.unlink(missing_ok=True)
        return removed


# --- helpers ------------------------------------------------------------------------------


def _reap(run: Path) -> bool:
    """Reap our runner for `run` if it exited; True if it is known to have exited."""
    process = _RUNNERS.get(str(run))
    if process is None or process.poll() is None:
        return False
    _RUNNERS.pop(str(run), None)
    return True


def _reap_all() -> None:
    for key, process in list(_RUNNERS.items()):
        if process.poll() is not None:
            _RUNNERS.pop(key, None)


def _touch(path: Path) -> None:
    try:
        path.touch()
    except OSError as exc:
        logger.debug("could not touch %s: %s", path, exc)


def _signal(pid: int, sig: int) -> None:
    if pid <= 1:
        return
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_text(path: Path, limit: int | None = None) -> str:
    """The file as text; with `limit`, only its first `limit` bytes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def _tail_text(path: Path) -> str:
    """The last lines of a (possibly huge) file, at most _TAIL_LINES / _TAIL_CHARS."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return ""
    lines = data.decode("utf-8", errors="replace").rstrip().splitlines()[-_TAIL_LINES:]
    text = "\n".join(lines).strip("\n")
    if len(text) > _TAIL_CHARS:
        text = "…" + text[-_TAIL_CHARS:]
    return text


def _with_tail(head: str, run: Path) -> str:
    """`head` plus the end of stderr (or of stdout, for CLIs that report errors there)."""
    tail = _tail_text(run / runner.STDERR) or _tail_text(run / runner.STDOUT)
    return f"{head}:\n{tail}" if tail else head


def _json_documents(text: str) -> list[Any]:
    """stdout as one JSON document, else its JSON lines (CLIs that stream events)."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        return [json.loads(stripped)]
    except ValueError:
        pass
    documents: list[Any] = []
    for line in stripped.splitlines():
        line = line.strip()
        if line.startswith(("{", "[")):
            try:
                documents.append(json.loads(line))
            except ValueError:
                continue
    return documents


def _dotted(document: Any, path: str) -> Any:
    """document["a"]["b"] for "a.b" (digits index lists); _MISSING if absent or null."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(current) <= index < len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return _MISSING if current is None else current
