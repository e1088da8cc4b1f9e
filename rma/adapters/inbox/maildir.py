"""The mail folder ``inbox/mail/`` of SPEC §8: a Maildir (``new/``, ``cur/``) and loose
``.eml`` files. Only regular files are read; anything else there is shown, never opened (a
pipe would block the run) nor moved."""

from __future__ import annotations

import mailbox
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from rma.adapters.inbox.folders import MAIL_FOLDER, Refused, is_upload_name
from rma.adapters.readers.messages import display_name
from rma.adapters.readers.source import kind_of


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
