"""The console display of interactive runs: a rich bar on a terminal, plain lines otherwise.

How progress shows is the CLI's choice (``showing``): ``bar`` (rich, on stdout, gone when the
run ends, so the result lines print as before), ``plain`` (a line per finished file on
stderr), or ``off``. ``auto`` is ``bar`` when stdout is a terminal, else ``plain``; ``--json``
turns it off. The events come from the flows through ``rma.service.progress``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rma.domain.vocabulary.printable import shown
from rma.service.progress import Display, installed

MODES = ("auto", "bar", "plain", "off")


def resolve(mode: str, stdout: IO[str]) -> str:
    if mode == "auto":
        return "bar" if _isatty(stdout) else "plain"
    return mode


@contextmanager
def showing(mode: str, stdout: IO[str] | None = None, stderr: IO[str] | None = None
            ) -> Iterator[None]:
    """Install the display chosen by ``mode`` (see the module docstring) for the block."""
    stdout = stdout or sys.stdout
    chosen = resolve(mode, stdout)
    display: Display | None = None
    if chosen == "bar":
        display = RichDisplay(stdout)
    elif chosen == "plain":
        display = PlainDisplay(stderr or sys.stderr)
    with installed(display):
        yield


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class PlainDisplay:
    """``[3/10] inbox/D-001/a.csv: posted, 12 accepted, 1 rejected (4.2 s)`` on stderr."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.total = 0
        self.finished = 0
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def _say(self, text: str) -> None:
        with self.lock:  # a file's name may hold a line break: shown escaped
            print(shown(text), file=self.stream, flush=True)

    def expect(self, items: int) -> None:
        with self.lock:
            self.total += items

    def done(self, label: str, outcome: str) -> None:
        with self.lock:
            self.finished += 1
            count = f"[{self.finished}/{max(self.total, self.finished)}]"
        self._say(f"{count} {label}: {outcome} ({time.monotonic() - self.started:.1f} s)")

    def chunks(self, label: str, total: int) -> None:
        self._say(f"{label}: checking in {total} chunks")

    def chunk_done(self, label: str) -> None:
        """Nothing: plain output is one line per file; chunk lines would flood a log."""

    def close(self) -> None:
        """Nothing to close: every line was written as it came."""


class RichDisplay:
    """A transient rich bar of files, with one bar per large file's chunks."""

    def __init__(self, stream: IO[str]) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(file=stream), transient=True)
        self.files = self.progress.add_task("files", total=None)
        self.chunk_tasks: dict[str, object] = {}
        self.lock = threading.Lock()
        self.progress.start()

    def expect(self, items: int) -> None:
        with self.lock:
            total = (self.progress.tasks[0].total or 0) + items
            self.progress.update(self.files, total=total)

    def done(self, label: str, outcome: str) -> None:
        with self.lock:
            self.progress.update(self.files, advance=1,
                                 description=f"files (last: {_short(label)} {outcome})")
            task = self.chunk_tasks.pop(label, None)
            if task is not None:
                self.progress.remove_task(task)  # type: ignore[arg-type]

    def chunks(self, label: str, total: int) -> None:
        with self.lock:
            self.chunk_tasks[label] = self.progress.add_task(f"  {_short(label)} chunks",
                                                             total=total)

    def chunk_done(self, label: str) -> None:
        with self.lock:
            task = self.chunk_tasks.get(label)
            if task is not None:
                self.progress.update(task, advance=1)  # type: ignore[arg-type]

    def close(self) -> None:
        self.progress.stop()


def _short(label: str, width: int = 40) -> str:
    """The end of a long path, escaped for rich markup (a file may be called ``[1].csv``)."""
    label = shown(label)
    return escape(label if len(label) <= width else "…" + label[-(width - 1):])
