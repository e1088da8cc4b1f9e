"""The drop folder of SPEC §8: what is waiting, and where a file goes once it is done.

A file moves only after its batch committed (archive) or could not be read (quarantine);
a crash in between is healed by the next run, which finds the hash already posted and
archives the file. Nothing is ever deleted.

A drop folder is written from outside, and its folder names the account, so only what was
uploaded into it is taken: a regular file with a single name. A symbolic link (to another
account's file, or outside the inbox) and a second name of a file (a hard link) are refused
and moved to quarantine unread (moving a link moves the link, never what it points to); a
named pipe, socket, device or sub-folder is refused and left in place, never opened. A file
is taken once it has not changed for RMA_SETTLE_SECONDS (its ``ctime``, which a writer cannot
set back), and only the very file listed, unchanged, is read (``rma.adapters.readers.source``) and
moved: a file that changed after it was listed stays for the next run.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from rma.adapters.names import free_name
from rma.adapters.readers.messages import display_name, display_text
from rma.adapters.readers.source import FileState, kind_of
from rma.domain.vocabulary.reasons import Reason

MAIL_FOLDER = "mail"
_SKIPPED_PREFIXES = (".", "~$")
_SKIPPED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".error.txt")


@dataclass(frozen=True)
class WaitingFile:
    path: Path
    account_id: str
    #: the file as it was listed: the one that is read and the one that is moved
    listed: FileState | None = None

    @property
    def source(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Refused:
    """An entry of a drop folder that is not a file to take, and why (one line, naming it).
    ``quarantine``: a link goes to quarantine unread; anything else stays where it is."""

    path: Path
    account_id: str
    reason: str
    quarantine: bool

    @property
    def source(self) -> str:
        return str(self.path)

    @property
    def action(self) -> str:
        return "quarantine" if self.quarantine else "left in place"


@dataclass(frozen=True)
class Unsettled:
    """A file that changed less than RMA_SETTLE_SECONDS ago (an upload may be under way)."""

    path: Path
    account_id: str
    quiet_seconds: float

    @property
    def source(self) -> str:
        return str(self.path)


@dataclass
class DropFolders:
    """What the drop folders hold, in a stable order (folder, then name)."""

    ready: list[WaitingFile]
    unsettled: list[Unsettled]
    refused: list[Refused]


def is_upload_name(name: str) -> bool:
    """Not hidden, not a partial upload, not an Excel lock file, not our own error note."""
    return not name.startswith(_SKIPPED_PREFIXES) and not name.lower().endswith(_SKIPPED_SUFFIXES)


def is_claim_candidate(path: Path) -> bool:
    """A file (links followed) whose name is an upload's (``is_upload_name``)."""
    return is_upload_name(path.name) and path.is_file()


def _link_text(path: Path) -> str:
    try:
        return f" (to {display_text(os.readlink(path))})"
    except OSError:
        return ""


def examine(path: Path, account_id: str, settle_seconds: float = 0, now: float | None = None
            ) -> WaitingFile | Unsettled | Refused | None:
    """What one entry of ``account_id``'s drop folder is: a file to take, one not settled
    yet, one refused; None for a name that waits unseen (hidden, partial) or one gone."""
    if not is_upload_name(path.name):
        return None
    name = display_name(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Refused(path, account_id, f"{name}: it cannot be examined "
                                         f"({exc.strerror or exc})", quarantine=False)
    kind = kind_of(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return Refused(path, account_id, f"{name}: not a regular file: it is {kind}"
                       f"{_link_text(path)}; a drop folder takes only files uploaded into it",
                       quarantine=True)
    if kind is not None:
        hint = " (files in sub-folders are not processed)" if stat.S_ISDIR(st.st_mode) else ""
        return Refused(path, account_id, f"{name}: not a regular file: it is {kind}{hint}",
                       quarantine=False)
    if st.st_nlink != 1:
        return Refused(path, account_id, f"{name}: the file has {st.st_nlink} names (a hard "
                       "link, perhaps to another account's file); a drop folder takes only "
                       "files uploaded into it", quarantine=True)
    quiet = (time.time() if now is None else now) - st.st_ctime
    if quiet < settle_seconds:
        return Unsettled(path, account_id, max(quiet, 0.0))
    return WaitingFile(path, account_id, FileState.of(st))


def scan(inbox: Path, settle_seconds: float = 0, now: float | None = None) -> DropFolders:
    """Every entry of every per-account folder ``inbox/<account_id>/``, sorted out.

    An account folder must be a real folder: one that is a symbolic link is refused (it
    would show another folder's files as this account's). Hidden and partly uploaded files
    (``.part``, ``.tmp``, ``~$`` lock files) wait unseen."""
    found = DropFolders([], [], [])
    if not inbox.is_dir():
        return found
    now = time.time() if now is None else now
    for folder in sorted(inbox.iterdir()):
        if folder.name == MAIL_FOLDER or folder.name.startswith("."):
            continue
        try:
            mode = os.lstat(folder).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode) and folder.is_dir():
            found.refused.append(Refused(
                folder, folder.name, f"{display_name(folder)}: an account folder that is a "
                "symbolic link is not read; make it a real folder (or a bind mount)",
                quarantine=False))
            continue
        if not stat.S_ISDIR(mode):
            continue
        for path in sorted(folder.iterdir()):
            entry = examine(path, folder.name, settle_seconds, now)
            if isinstance(entry, WaitingFile):
                found.ready.append(entry)
            elif isinstance(entry, Unsettled):
                found.unsettled.append(entry)
            elif isinstance(entry, Refused):
                found.refused.append(entry)
    return found


def waiting_files(inbox: Path, settle_seconds: float = 0) -> list[WaitingFile]:
    """The files to take from the drop folders now (``scan``)."""
    return scan(inbox, settle_seconds).ready


def account_folder_of(path: Path, inbox: Path) -> str | None:
    """The account whose drop folder really holds ``path`` (links resolved), if one does. A
    file with a second name (a hard link) may be another account's: it takes no account."""
    real = path.resolve()
    try:
        relative = real.relative_to(inbox.resolve())
    except ValueError:
        return None
    if len(relative.parts) != 2 or relative.parts[0] == MAIL_FOLDER:
        return None
    try:
        if os.lstat(real).st_nlink != 1:
            return None
    except OSError:
        pass  # reading it says what is wrong
    return relative.parts[0]


class FileChanged(OSError):
    """A drop-folder file is no longer the one that was listed and read: it is not moved."""


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


@dataclass(frozen=True)
class WaitingMail:
    """One e-mail waiting in ``inbox/mail/``: a loose ``.eml`` or a Maildir message."""

    path: Path

    @property
    def source(self) -> str:
        return str(self.path)


def _is_regular(path: Path) -> bool:
    """A regular file, not a link (lstat): the only kind of entry that is ever read."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _maildir_messages(folder: Path) -> tuple[list[Path], list[Path]]:
    """Delivered messages of a Maildir (``new/`` and ``cur/``; ``tmp/`` is mid-delivery), and
    the entries there that are not regular files."""
    box = mailbox.Maildir(folder, factory=None, create=False)
    entries = [p for sub in ("new", "cur") if (folder / sub).is_dir()
               for p in sorted((folder / sub).iterdir()) if is_upload_name(p.name)]
    by_key = {p.name.split(":", 1)[0]: p for p in entries if _is_regular(p)}
    return ([by_key[key] for key in sorted(box.keys()) if key in by_key],
            [p for p in entries if not _is_regular(p)])


def _mail_entries(inbox: Path) -> tuple[list[Path], list[Path]]:
    """The messages in ``inbox/mail/`` (a Maildir: new/, cur/; and loose ``.eml`` files),
    and the entries there that are not regular files (never opened: a pipe would block)."""
    folder = inbox / MAIL_FOLDER
    if not folder.is_dir():
        return [], []
    loose = [p for p in sorted(folder.iterdir())
             if is_upload_name(p.name) and p.suffix.lower() == ".eml"]
    found = [p for p in loose if _is_regular(p)]
    odd = [p for p in loose if not _is_regular(p)]
    if (folder / "new").is_dir() or (folder / "cur").is_dir():
        messages, others = _maildir_messages(folder)
        found.extend(messages)
        odd.extend(others)
    return found, odd


def waiting_mail(inbox: Path) -> list[WaitingMail]:
    """Every message in ``inbox/mail/``: a Maildir (new/, cur/) and loose ``.eml`` files."""
    return [WaitingMail(p) for p in _mail_entries(inbox)[0]]


def refused_mail(inbox: Path) -> list[Refused]:
    """Entries of ``inbox/mail/`` that are not regular files: shown, never opened or moved."""
    refused = []
    for path in _mail_entries(inbox)[1]:
        try:
            kind = kind_of(os.lstat(path).st_mode) or "not a file"
        except OSError:
            continue
        refused.append(Refused(path, MAIL_FOLDER, f"{display_name(path)}: not a regular file: "
                               f"it is {kind}", quarantine=False))
    return refused


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
    target = free_name(target)
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
