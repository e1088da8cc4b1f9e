"""The per-account drop folders ``inbox/<account_id>/`` of SPEC §8: what is waiting in them.

A drop folder is written from outside, and its folder names the account, so only what was
uploaded into it is taken: a regular file with a single name. A symbolic link (to another
account's file, or outside the inbox) and a second name of a file (a hard link) are refused
(``rma.adapters.inbox.moves.refuse`` moves them to quarantine unread); a named pipe, socket,
device or sub-folder is refused and left in place, never opened. A file is taken once it has
not changed for RMA_SETTLE_SECONDS (its ``ctime``, which a writer cannot set back), and only
the very file listed, unchanged, is read (``rma.adapters.readers.source``) and moved.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from rma.adapters.readers.messages import display_name, display_text
from rma.adapters.readers.source import FileState, kind_of

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
