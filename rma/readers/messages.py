"""Small helpers for one-line batch error messages."""

from __future__ import annotations

import re
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def display_name(path: Path) -> str:
    """The file's name as it may appear in a one-line message (control characters removed)."""
    return _CONTROL.sub(" ", path.name).strip() or str(path)


def short_reason(exc: BaseException) -> str:
    """An exception as a short, single-line phrase."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]
