"""A graceful stop of a command-line run on SIGINT (Ctrl-C) or SIGTERM.

The first signal asks the run to stop: every task checks ``requested()`` before it starts a
batch (a file or an e-mail) and takes nothing new once it is set, while a batch already
started runs to its commit or rollback; the flow then records the run and frees the inbox
lock as usual. A second signal aborts at once: the run's abort hooks get a moment (the run
row is marked ``interrupted`` if the database allows it), the pool's worker processes are
killed and the process exits; a transaction in progress is never committed, so the database
rolls it back (as after ``kill -9``).

The handlers live in the CLI's main thread (``handling``) and the flow runs in a thread of
its own (``run_in_thread``): Prefect's flow engine installs its SIGTERM bridge (which fails
the flow run at once, the behaviour this module replaces) only when the flow runs in the
main thread, so it stays out of the way instead of being fought. Worker processes of a
process pool see the request through a flag file named in ``FLAG_ENV`` and ignore the
signals themselves (``ignore_signals``): a Ctrl-C reaches the whole process group.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

#: the environment variable naming the flag file that pool worker processes check
FLAG_ENV = "RMA_STOP_FLAG"
SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: how long the abort hooks may take before the process exits anyway (a SQLite database
#: whose write lock the batch in progress holds makes them wait: they are then given up)
ABORT_GRACE_SECONDS = 0.5

T = TypeVar("T")

_requested = threading.Event()
_received: list[int] = []
_abort_hooks: list[Callable[[], None]] = []


def requested() -> bool:
    """True once a stop was asked for (in this process or, via the flag, in its parent)."""
    if _requested.is_set():
        return True
    flag = os.environ.get(FLAG_ENV)
    return flag is not None and flag != "" and os.path.exists(flag)


def signal_received() -> int | None:
    """The first signal received during ``handling``, if any."""
    return _received[0] if _received else None


def exit_status() -> int:
    """The shell's convention for a process stopped by a signal: 128 + its number
    (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + (signal_received() or signal.SIGTERM)


def request() -> None:
    _requested.set()
    flag = os.environ.get(FLAG_ENV)
    if flag:
        Path(flag).touch()


def _name(signum: int) -> str:
    return signal.Signals(signum).name


def _handler(signum: int, _frame: object) -> None:
    _received.append(signum)
    if len(_received) == 1:
        request()
        _say(f"rma: {_name(signum)}: stopping; the batches in progress finish, no new file "
             f"or e-mail is taken (send {_name(signum)} again to abort at once)")
        return
    _abort(signum)


def _say(line: str) -> None:
    with suppress(OSError, ValueError, RuntimeError):  # a closed stderr must not matter
        print(line, file=sys.stderr, flush=True)


def _abort(signum: int) -> None:
    """Exit now: the abort hooks get ABORT_GRACE_SECONDS, the pool's worker processes are
    killed (their transactions roll back), nothing is flushed or committed."""
    _say(f"rma: {_name(signum)} again: aborted; the batch in progress was rolled back and its "
         "file waits for the next run")
    hooks = threading.Thread(target=_run_abort_hooks, daemon=True)
    hooks.start()
    hooks.join(ABORT_GRACE_SECONDS)
    for child in multiprocessing.active_children():
        with suppress(OSError):
            os.kill(child.pid or 0, signal.SIGKILL)
    os._exit(128 + signum)


def _run_abort_hooks() -> None:
    for hook in list(_abort_hooks):
        with suppress(Exception):  # best effort: the next run heals the run row
            hook()


@contextmanager
def on_abort(hook: Callable[[], None]) -> Iterator[None]:
    """Run ``hook`` (briefly, best effort) if the process is aborted during the block."""
    _abort_hooks.append(hook)
    try:
        yield
    finally:
        _abort_hooks.remove(hook)


@contextmanager
def handling() -> Iterator[None]:
    """Install the stop handlers for SIGINT and SIGTERM (main thread only) for the block,
    with the flag file for pool worker processes; restore what was there before."""
    _requested.clear()
    _received.clear()
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    saved_flag = os.environ.get(FLAG_ENV)
    folder = tempfile.mkdtemp(prefix="rma-stop-")
    os.environ[FLAG_ENV] = os.path.join(folder, "stop")
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if saved_flag is None:
            os.environ.pop(FLAG_ENV, None)
        else:
            os.environ[FLAG_ENV] = saved_flag
        Path(folder, "stop").unlink(missing_ok=True)
        os.rmdir(folder)


def run_in_thread(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a thread of its own while the main thread waits, so that the
    main thread's signal handlers run at once (see the module docstring)."""
    values: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            values.append(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread as is
            errors.append(exc)

    thread = threading.Thread(target=target, name="rma-run", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)  # wakes for signal handlers
    if errors:
        raise errors[0]
    return values[0]


def ignore_signals() -> None:
    """Worker-process initializer: the parent decides when to stop (and kills its workers
    on abort); a Ctrl-C sent to the process group must not break a batch half way."""
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
