"""The drop folder of SPEC §8: what is waiting, and where a file goes once it is done.

A file moves only after its batch committed (archive) or could not be read (quarantine);
a crash in between is healed by the next run, which finds the hash already posted and
archives the file. Nothing is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

MAIL_FOLDER = "mail"
_SKIPPED_PREFIXES = (".", "~$")
_SKIPPED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".error.txt")


@dataclass(frozen=True)
class WaitingFile:
    path: Path
    account_id: str

    @property
    def source(self) -> str:
        return str(self.path)


def is_claim_candidate(path: Path) -> bool:
    """Not hidden, not a partial upload, not an Excel lock file, not our own error note."""
    name = path.name
    return (path.is_file() and not name.startswith(_SKIPPED_PREFIXES)
            and not name.lower().endswith(_SKIPPED_SUFFIXES))


def waiting_files(inbox: Path) -> list[WaitingFile]:
    """Every file in a per-account folder ``inbox/<account_id>/``, in a stable order.

    Hidden and partly uploaded files (``.part``, ``.tmp``, ``~$`` lock files) wait.
    """
    if not inbox.is_dir():
        return []
    found: list[WaitingFile] = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
        if folder.name == MAIL_FOLDER or folder.name.startswith("."):
            continue
        found.extend(WaitingFile(p, folder.name) for p in sorted(folder.iterdir())
                     if is_claim_candidate(p))
    return found


def account_folder_of(path: Path, inbox: Path) -> str | None:
    """The account whose drop folder holds ``path``, if it sits in one."""
    try:
        relative = path.resolve().relative_to(inbox.resolve())
    except ValueError:
        return None
    if len(relative.parts) == 2 and relative.parts[0] != MAIL_FOLDER:
        return relative.parts[0]
    return None


def _free_name(target: Path) -> Path:
    if not target.exists():
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem}.{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(target)


def archive(item: WaitingFile, archive_root: Path, today: dt.date) -> Path:
    """Move a processed file to ``archive/YYYY-MM-DD/<account>/``."""
    target = _free_name(archive_root / today.isoformat() / item.account_id / item.path.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.move(str(item.path), target))


def quarantine(item: WaitingFile, quarantine_root: Path, code: str, message: str) -> Path:
    """Move an unreadable file to ``quarantine/<account>/`` with a ``.error.txt`` beside it."""
    target = _free_name(quarantine_root / item.account_id / item.path.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    moved = Path(shutil.move(str(item.path), target))
    moved.with_name(moved.name + ".error.txt").write_text(f"{code}: {message}\n",
                                                          encoding="utf-8")
    return moved


#: Batch errors that come from the file itself: it goes to quarantine. Any other failure
#: (database down, a bug) leaves the file waiting for the next run.
QUARANTINE_CODES = frozenset({"UNSUPPORTED_FORMAT", "UNREADABLE_FILE", "NO_HEADER",
                              "TOO_LARGE", "EMPTY_BATCH"})


def settle(item: WaitingFile, status: str, error: dict[str, str] | None,
           archive_root: Path, quarantine_root: Path, today: dt.date) -> Path | None:
    """Move a file once its batch is settled; returns where it went (None: still waiting,
    or already moved by a run that overlapped this one — its batch is committed either way)."""
    try:
        if status in ("posted", "duplicate"):
            return archive(item, archive_root, today)
        if error is not None and error.get("code") in QUARANTINE_CODES:
            return quarantine(item, quarantine_root, error["code"], error.get("message", ""))
    except FileNotFoundError:
        if item.path.exists():
            raise
    return None
