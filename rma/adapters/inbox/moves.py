"""Where a drop-folder file or an e-mail goes once it is done (SPEC §8): ``archive/`` or
``quarantine/`` beside the inbox.

A file moves only after its batch committed (archive) or could not be read (quarantine);
a crash in between is healed by the next run, which finds the hash already posted and
archives the file. Only the very file that was listed and read, unchanged, is moved (moving
a link moves the link, never what it points to): a file that changed after it was listed
stays for the next run. Nothing is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from rma.adapters.inbox.folders import MAIL_FOLDER, Refused, WaitingFile
from rma.adapters.inbox.maildir import WaitingMail
from rma.adapters.names import free_name
from rma.adapters.readers.messages import display_name
from rma.adapters.readers.source import FileState, kind_of
from rma.domain.vocabulary.reasons import Reason
from rma.errors import FileChanged


def _still_as_listed(item: WaitingFile) -> None:
    """Before a file is moved: it is still the regular, single-name file that was listed
    and read, unchanged. Else it stays, so that the archive never holds a link, nor rows
    that nobody processed (the next run reads the new content: a new SHA-256)."""
    st = os.lstat(item.path)
    name = display_name(item.path)
    kind = kind_of(st.st_mode)
    if kind is not None or st.st_nlink != 1:
        what = kind or f"a file with {st.st_nlink} names"
        raise FileChanged(f"{name}: it is now {what}; it was not moved")
    if item.listed is not None and FileState.of(st) != item.listed:
        raise FileChanged(f"{name}: it changed after it was listed and read ({item.listed.size:,}"
                          f" bytes, now {st.st_size:,}); it stays in the inbox and the next run "
                          "reads it again")


def _move(path: Path, target: Path) -> Path:
    """``shutil.move`` renames (a link moves as the link itself; across file systems it is
    made again as a link, and a file's content is copied)."""
    target = free_name(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.move(str(path), target))


def _with_note(moved: Path, code: str, message: str) -> Path:
    moved.with_name(moved.name + ".error.txt").write_text(f"{code}: {message}\n",
                                                          encoding="utf-8")
    return moved


def archive(item: WaitingFile, archive_root: Path, today: dt.date) -> Path:
    """Move a processed file to ``archive/YYYY-MM-DD/<account>/``."""
    _still_as_listed(item)
    return _move(item.path, archive_root / today.isoformat() / item.account_id / item.path.name)


def quarantine(item: WaitingFile, quarantine_root: Path, code: str, message: str) -> Path:
    """Move an unreadable file to ``quarantine/<account>/`` with a ``.error.txt`` beside it."""
    _still_as_listed(item)
    return _with_note(_move(item.path, quarantine_root / item.account_id / item.path.name),
                      code, message)


#: the batch reason of a refused entry (SPEC §4's closed list)
REFUSED_CODE = str(Reason.UNREADABLE_FILE)


def refuse(item: Refused, quarantine_root: Path) -> str:
    """Deal with a refused entry: a link goes to quarantine unread (the link itself) with its
    ``.error.txt``; anything else is left where it is. Returns the batch message."""
    if not item.quarantine:
        return f"{item.reason}; it is never opened and is left in place: remove it"
    message = f"{item.reason}; it was moved to quarantine unread"
    _with_note(_move(item.path, quarantine_root / item.account_id / item.path.name),
               REFUSED_CODE, message)
    return message


#: Batch errors that come from the file itself: it goes to quarantine. Any other failure
#: (database down, a bug) leaves the file waiting for the next run.
QUARANTINE_CODES = frozenset({"UNSUPPORTED_FORMAT", "UNREADABLE_FILE", "NO_HEADER",
                              "TOO_LARGE", "EMPTY_BATCH"})


def settle(item: WaitingFile, status: str, error: dict[str, str] | None,
           archive_root: Path, quarantine_root: Path, today: dt.date) -> Path | None:
    """Move a file once its batch is settled; returns where it went (None: still waiting,
    or already moved by a run that overlapped this one — its batch is committed either way).
    Raises ``FileChanged`` for a file that changed after it was listed: it stays."""
    try:
        if status in ("posted", "duplicate"):
            return archive(item, archive_root, today)
        if error is not None and error.get("code") in QUARANTINE_CODES:
            return quarantine(item, quarantine_root, error["code"], error.get("message", ""))
    except FileNotFoundError:
        if os.path.lexists(item.path):
            raise
    return None


def _eml_name(path: Path) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in path.name)
    return stem if stem.lower().endswith(".eml") else stem + ".eml"


def settle_mail(item: WaitingMail, status: str, error: dict[str, str] | None,
                archive_root: Path, quarantine_root: Path, today: dt.date) -> Path | None:
    """Archive a processed (or duplicate) message, quarantine an unreadable one or one from
    an unknown sender; anything else (the database failed) stays for the next run."""
    done = status in ("processed", "duplicate")
    if not done and error is None:
        return None
    folder = archive_root / today.isoformat() if done else quarantine_root
    try:
        moved = _move(item.path, folder / MAIL_FOLDER / _eml_name(item.path))
    except FileNotFoundError:  # a run that overlapped this one moved it first
        if item.path.exists():
            raise
        return None
    if not done and error is not None:
        _with_note(moved, str(error.get("code")), error.get("message", ""))
    return moved
