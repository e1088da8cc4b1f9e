"""Progress events of a run: the flows say what is expected and what finished.

``expect``, ``done`` and, for a large file, ``chunks`` / ``chunk_done``: one call per file or
chunk, never per row. They go to the display an entry point installed (``installed``; the
CLI's console display is ``rma.entrypoints.progress``); a flow run with none installed
(``rma serve``, a worker) reports into nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Display(Protocol):
    def expect(self, items: int) -> None: ...
    def done(self, label: str, outcome: str) -> None: ...
    def chunks(self, label: str, total: int) -> None: ...
    def chunk_done(self, label: str) -> None: ...
    def close(self) -> None: ...


_display: Display | None = None
_lock = threading.Lock()


def expect(items: int) -> None:
    """``items`` more files (or messages) will be reported done."""
    if _display is not None and items:
        _display.expect(items)


def done(label: str, outcome: str) -> None:
    """One file (or message) finished; ``outcome`` is a few words."""
    if _display is not None:
        _display.done(label, outcome)


def chunks(label: str, total: int) -> None:
    """A large file is checked in ``total`` chunks."""
    if _display is not None:
        _display.chunks(label, total)


def chunk_done(label: str) -> None:
    if _display is not None:
        _display.chunk_done(label)


@contextmanager
def installed(display: Display | None) -> Iterator[None]:
    """Send this process's progress events to ``display`` for the block, then close it."""
    global _display
    with _lock:
        previous, _display = _display, display
    try:
        yield
    finally:
        with _lock:
            _display = previous
        if display is not None:
            display.close()
