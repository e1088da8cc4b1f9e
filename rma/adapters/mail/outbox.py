"""The outbox: replies are written to ``outbox/`` first and sent from there.

Writing and sending are separate steps, so a reply is never lost when the SMTP server is down
or not configured: it simply waits in ``outbox/`` for the next run. This module keeps the
folder; ``rma.adapters.mail.sending`` sends from it.

    outbox/<timestamp>-<message-id>.eml       waiting to be sent
    outbox/<name>.eml.sending                 being sent right now
    outbox/sent/YYYY-MM-DD/<name>.eml         sent (the date of sending, UTC)
    outbox/unsure/<name>.eml.sending          a send was interrupted: a person decides
    outbox/refused/<name>.eml                 refused for good: a person decides
    outbox/refused/<name>.eml.error.txt       when, which server, the code and text, what to do

Never twice, at the price of "maybe never": before a message is handed to the server it is
renamed to ``.sending``; after the server accepted it, it moves to ``sent/``. When the server
refuses it or the connection fails, it is renamed back to ``.eml`` and goes out on the next
run. A ``.sending`` file found when a run starts means a run died between those steps (the
process was killed, the machine went down): the server may or may not have accepted the
message. Resending could deliver a second copy, not resending could lose it; we do not guess.
Such files are moved to ``outbox/unsure/`` and reported, and a person checks the mail log and
either deletes the file or renames it back to ``.eml`` in ``outbox/``. (A connection dropped
while the server was answering the final ``.`` of a message is reported as a failure and
retried: the one window where a second copy is possible, and an unlikely one.)

One run at a time: ``run_lock`` holds an exclusive lock on ``outbox/.send.lock`` for the run,
so a second, overlapping run does not mistake the first one's ``.sending`` file for a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

from rma.adapters.names import free_name

try:  # POSIX; elsewhere runs are not guarded against overlapping
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

SENDING = ".sending"
EML = ".eml"
LOCK_NAME = ".send.lock"
REFUSED_DIR = "refused"
ERROR_NOTE = ".error.txt"


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write the message as ``<outbox>/<timestamp>-<message-id>.eml``, atomically."""
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{_safe(str(message.get('Message-ID', '')))}"
    data = message.as_bytes(policy=message.policy.clone(linesep="\n"))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=outbox)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        target = free_name(outbox / f"{name}{EML}", EML)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def pending(outbox: Path) -> list[Path]:
    """The ``.eml`` files waiting directly in ``outbox/``, oldest first."""
    outbox = Path(outbox)
    if not outbox.is_dir():
        return []
    files = [p for p in outbox.iterdir() if p.suffix == ".eml" and p.is_file()
             and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.name, p.stat().st_mtime))


def move_to_sent(sending: Path, name: str, outbox: Path) -> Path:
    """The server accepted the message: into ``sent/`` under today's date (UTC)."""
    day = outbox / "sent" / dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    target = free_name(day / name, EML)
    os.replace(sending, target)
    return target


def park_interrupted(outbox: Path) -> list[Path]:
    """Move every ``.sending`` file left by a run that died to ``unsure/``, for a person."""
    parked = []
    for path in sorted(outbox.glob(f"*{SENDING}")):
        if not path.is_file():
            continue
        unsure = outbox / "unsure"
        unsure.mkdir(exist_ok=True)
        target = free_name(unsure / path.name, EML + SENDING)
        os.replace(path, target)
        parked.append(target)
    return parked


def set_aside(sending: Path, name: str, outbox: Path, server: str, reason: str,
              advice: str) -> Path:
    """Move a message the server refused for good to ``outbox/refused/``, with a note."""
    folder = outbox / REFUSED_DIR
    folder.mkdir(exist_ok=True)
    refused = free_name(folder / name, EML)
    os.replace(sending, refused)  # first: the message is out of the send queue whatever next
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    note = (f"{when} {server} refused this reply permanently at {reason}\n"
            f"To do: {advice}.\n")
    with contextlib.suppress(OSError):  # no note (disk full): the report still names it
        refused.with_name(refused.name + ERROR_NOTE).write_text(note, encoding="utf-8")
    return refused


def refused_replies(outbox: Path) -> list[dict[str, str]]:
    """The replies in ``outbox/refused/``, each with the two lines of its note."""
    folder = Path(outbox) / REFUSED_DIR
    if not folder.is_dir():
        return []
    items = []
    for path in sorted(p for p in folder.iterdir() if p.suffix == EML and p.is_file()):
        note = path.with_name(path.name + ERROR_NOTE)
        lines = note.read_text(encoding="utf-8", errors="replace").splitlines() \
            if note.is_file() else []
        items.append({"path": str(path), "reason": lines[0] if lines else "",
                      "action": lines[1].removeprefix("To do: ") if len(lines) > 1 else ""})
    return items


@contextlib.contextmanager
def run_lock(outbox: Path) -> Iterator[bool]:
    """Whether this run holds the outbox's send lock (False: another run is sending)."""
    if fcntl is None:  # pragma: no cover
        yield True
        return
    with open(outbox / LOCK_NAME, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _safe(message_id: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip().strip("<>")).strip("._")
    return text[:100] or "message"
