"""One structured log line per batch (logfmt: ``key=value`` pairs), for log search and alerts.

    event=batch file=inbox/D-001/a.csv account=D-001 status=posted accepted=3 rejected=1
    warnings=2 batch_id=B-… error=- seconds=0.842

A value with a space, quote, ``=`` or control character is double-quoted (``\\"``, ``\\n``,
``\\x1b``... escaped: ``rma.domain.vocabulary.printable``); a missing value is ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rma.domain.vocabulary.printable import is_plain, shown
from rma.domain.vocabulary.results import BatchResult

_BARE = re.compile(r"[^\s\"=\\]+")


def logfmt(fields: Mapping[str, object]) -> str:
    return " ".join(f"{key}={_value(value)}" for key, value in fields.items())


def _value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if _BARE.fullmatch(text) and is_plain(text):
        return text
    escaped = shown(text.replace("\\", "\\\\").replace('"', '\\"'))
    return f'"{escaped}"'


def batch_line(result: BatchResult, seconds: float | None, **extra: object) -> str:
    """The batch's line: where it came from, what became of it, how long it took."""
    return logfmt({
        "event": "batch",
        "file": result.source,
        "account": result.account_id,
        "status": result.status,
        "accepted": result.claims_accepted,
        "rejected": result.claims_rejected,
        "warnings": len(result.warnings),
        "batch_id": result.batch_id,
        "error": (result.error or {}).get("code"),
        "seconds": seconds,
        **extra,
    })
