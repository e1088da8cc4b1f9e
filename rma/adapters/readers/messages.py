"""Small helpers for one-line batch error messages."""

from __future__ import annotations

import re
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
#: control characters and the invisible marks that reorder text (bidi overrides)
_UNSHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def display_name(path: Path) -> str:
    """The file's name as it may appear in a one-line message (control characters removed)."""
    return _CONTROL.sub(" ", path.name).strip() or str(path)


def display_text(text: str, limit: int = 60) -> str:
    """Untrusted text (a sheet or part name) as it may appear in a one-line message: control
    characters become spaces, and a long name is cut, so that it cannot forge lines or bury
    the message. It is only ever shown, never used as a path."""
    flat = " ".join(_UNSHOWN.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def short_reason(exc: BaseException) -> str:
    """An exception as a short, single-line phrase."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]
