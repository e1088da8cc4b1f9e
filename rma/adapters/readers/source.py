"""Reading a claim file's bytes from a path without being fooled by what sits there.

A drop folder is written by people outside the company, so the name may be a symbolic link
(to another account's file, or one outside the inbox), a second name of another file (a hard
link), a named pipe that blocks whoever opens it, a device, or a file still being written.

    open_regular(path)             a descriptor of the regular file at ``path``, never a link
    read_regular(path, max, seen)  its bytes (at most ``max``), as they were from start to end
    sha256_regular(path, ...)      the same, hashed in blocks

Nothing that is not a regular file is opened: ``lstat`` says what the name is first, then
``O_NOFOLLOW | O_NONBLOCK`` and ``fstat`` of the descriptor close the gap in which the name
could be swapped (a pipe opened with O_NONBLOCK returns at once instead of waiting for a
writer). A ``FileState`` taken when a drop folder was listed pins the very file that was
listed: a different file, a second name, or any change since (size, times) is refused.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rma.errors import NotReadable

_OPEN_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
               | getattr(os, "O_CLOEXEC", 0))
_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileState:
    """Which file a name pointed at and how it was then: any write, truncation, rename over
    it, new name (hard link) or chmod changes one of these (``ctime`` cannot be set back by
    the writer, unlike ``mtime``)."""

    device: int
    inode: int
    links: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_dev, st.st_ino, st.st_nlink, st.st_size, st.st_mtime_ns,
                   st.st_ctime_ns)


def kind_of(mode: int) -> str | None:
    """None for a regular file, otherwise what the entry is, in plain words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _refuse_kind(mode: int) -> None:
    kind = kind_of(mode)
    if kind is not None:
        raise NotReadable(f"not a regular file: it is {kind}, which is never read")


def refuse_named(path: Path) -> None:
    """What the name is, before anything is opened: a pipe or a device is never opened (a
    pipe would block; opening some devices does something)."""
    _refuse_kind(os.lstat(path).st_mode)


def _check_listed(now: FileState, listed: FileState | None) -> None:
    if listed is None:
        return
    if (now.device, now.inode) != (listed.device, listed.inode):
        raise NotReadable("it was replaced by another file after the drop folder was listed; "
                          "it stays in the inbox for the next run")
    if now.links != 1:
        raise NotReadable(f"it has {now.links} names (a hard link, perhaps to another "
                          "account's file); a drop folder takes only files uploaded into it")
    if now != listed:
        raise NotReadable("it changed after the drop folder was listed (still being "
                          "written?); it stays in the inbox for the next run")


def open_regular(path: Path, listed: FileState | None = None) -> tuple[int, FileState]:
    """A descriptor of the regular file at ``path`` and its state; raises ``NotReadable``
    for anything else (or, with ``listed``, for another or a changed file) and OSError when
    it cannot be opened. The caller closes the descriptor."""
    refuse_named(path)
    fd = os.open(path, _OPEN_FLAGS)  # a link put there since lstat: ELOOP, never followed
    try:
        st = os.fstat(fd)
        _refuse_kind(st.st_mode)
        state = FileState.of(st)
        _check_listed(state, listed)
    except BaseException:
        os.close(fd)
        raise
    return fd, state


def _unchanged_while_read(fd: int, before: FileState, got: int) -> None:
    after = FileState.of(os.fstat(fd))
    if after != before or got != before.size:
        raise NotReadable(f"it changed while it was read ({before.size:,} bytes, then "
                          f"{max(after.size, got):,}); still being written? it is read again "
                          "once it has stopped changing")


def read_regular(path: Path, max_bytes: int | None, listed: FileState | None = None,
                 check_size: Callable[[int], None] | None = None
                 ) -> tuple[bytes, FileState]:
    """The file's bytes, at most ``max_bytes + 1`` of them (one more than allowed tells the
    caller it is too large; None: no limit), and its state; the file must not change while
    it is read. ``check_size`` sees the size before anything is read (and raises to refuse
    it)."""
    fd, state = open_regular(path, listed)
    with open(fd, "rb", closefd=True) as handle:
        if check_size is not None:
            check_size(state.size)
        data = handle.read(-1 if max_bytes is None else max_bytes + 1)
        if max_bytes is None or len(data) <= max_bytes:
            _unchanged_while_read(fd, state, len(data))
    return data, state


def sha256_regular(path: Path, listed: FileState | None = None, max_bytes: int | None = None
                   ) -> tuple[str | None, FileState]:
    """The SHA-256 of the file and its state; None (unhashed) when it is larger than
    ``max_bytes``: such a file is refused as too large before anything depends on its hash."""
    fd, state = open_regular(path, listed)
    with open(fd, "rb", closefd=True) as handle:
        limit = state.size if max_bytes is None else max_bytes
        if state.size > limit:
            return None, state
        digest, got = hashlib.sha256(), 0
        while got <= limit and (block := handle.read(_BLOCK)):
            digest.update(block)
            got += len(block)
        _unchanged_while_read(fd, state, got)
    return digest.hexdigest(), state
