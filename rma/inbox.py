"""The drop folder of SPEC §8: what is waiting, and where a file goes once it is done.

A file moves only after its batch committed (archive) or could not be read (quarantine);
a crash in between is healed by the next run, which finds the hash already posted and
archives the file. Nothing is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import mailbox
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


@dataclass(frozen=True)
class WaitingMail:
    """One e-mail waiting in ``inbox/mail/``: a loose ``.eml`` or a Maildir message."""

    path: Path

    @property
    def source(self) -> str:
        return str(self.path)


def _maildir_messages(folder: Path) -> list[Path]:
    """Delivered messages of a Maildir (``new/`` and ``cur/``; ``tmp/`` is mid-delivery)."""
    box = mailbox.Maildir(folder, factory=None, create=False)
    by_key = {p.name.split(":", 1)[0]: p
              for sub in ("new", "cur") if (folder / sub).is_dir()
              for p in (folder / sub).iterdir() if p.is_file()}
    return [by_key[key] for key in sorted(box.keys()) if key in by_key]


def waiting_mail(inbox: Path) -> list[WaitingMail]:
    """Every message in ``inbox/mail/``: a Maildir (new/, cur/) and loose ``.eml`` files."""
    folder = inbox / MAIL_FOLDER
    if not folder.is_dir():
        return []
    found = [p for p in sorted(folder.iterdir())
             if is_claim_candidate(p) and p.suffix.lower() == ".eml"]
    if (folder / "new").is_dir() or (folder / "cur").is_dir():
        found.extend(_maildir_messages(folder))
    return [WaitingMail(p) for p in found]


def _eml_name(path: Path) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in path.name)
    return stem if stem.lower().endswith(".eml") else stem + ".eml"


def settle_mail(item: WaitingMail, status: str, error: dict[str, str] | None,
                archive_root: Path, quarantine_root: Path, today: dt.date) -> Path | None:
    """Archive a processed (or duplicate) message, quarantine an unreadable one or one from
    an unknown sender; anything else (the database failed) stays for the next run."""
    if status in ("processed", "duplicate"):
        target = archive_root / today.isoformat() / MAIL_FOLDER / _eml_name(item.path)
        note = None
    elif error is not None:
        target = quarantine_root / MAIL_FOLDER / _eml_name(item.path)
        note = f"{error.get('code')}: {error.get('message', '')}\n"
    else:
        return None
    target = _free_name(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        moved = Path(shutil.move(str(item.path), target))
    except FileNotFoundError:
        if item.path.exists():
            raise
        return None
    if note is not None:
        moved.with_name(moved.name + ".error.txt").write_text(note, encoding="utf-8")
    return moved
