"""Names of the files we make from a submitter's file name (reports, archive, quarantine,
returns, outbox, attachments): bounded in bytes, and never a name that is already taken.

A file system limits one name to 255 bytes (ext4, XFS, btrfs: ``NAME_MAX``), and a name of
75 CJK characters is already 225 of them: the report ``<name>.<hash>.rejections.xlsx`` of
such a file could not be written, every night. So every name derived from a submitter's is
cut to ``MAX_NAME_BYTES`` (UTF-8 as the file system stores it, at a character boundary),
keeping whole what tells names apart (the hash, the extension); the room left below
``NAME_MAX`` is for what is added to a name later: ``.2`` from ``free_name``, the
``.error.txt`` beside a quarantined file, ``.sending`` in the outbox, the
``.<name>.XXXXXXXX.tmp`` of an atomic write.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path

#: bytes in one file name on the file systems we run on
NAME_MAX = 255
#: a derived name is at most this long (see the module docstring for the room left)
MAX_NAME_BYTES = 200
#: ``free_name``'s ``.2`` ... ``.9999``: numbered names may take this much more
_COUNTER_BYTES = len(".9999")
_MAX_NUMBERED = 10_000
#: characters of a name taken from a submitter (an attachment's, an upload's)
MAX_FILENAME = 120
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def name_bytes(text: str) -> int:
    """The length of ``text`` as a file name on disk (undecodable bytes count as one each)."""
    return len(os.fsencode(text))


def utf8_prefix(text: str, limit: int) -> str:
    """The longest start of ``text`` that is at most ``limit`` bytes on disk, never cutting a
    character in half, nor a combining accent off its letter."""
    if name_bytes(text) <= limit:
        return text
    used, end = 0, 0
    for i, ch in enumerate(text):
        used += name_bytes(ch)
        if used > limit:
            break
        end = i + 1
    while 0 < end < len(text) and unicodedata.combining(text[end]):
        end -= 1  # the letter goes with its accents
    return text[:end]


def bounded_name(stem: str, suffix: str = "", limit: int = MAX_NAME_BYTES) -> str:
    """``stem + suffix`` in at most ``limit`` bytes: the stem is cut, the suffix (the hash, the
    extension: what tells two names apart) is kept whole. A cut stem loses trailing spaces
    and dots (Windows drops them, and ``a..xlsx`` reads badly)."""
    room = limit - name_bytes(suffix)
    if room < 1:
        raise ValueError(f"a suffix of {name_bytes(suffix)} bytes leaves no room for a name")
    cut = utf8_prefix(stem, room)
    if cut != stem:
        cut = cut.rstrip(" .") or cut
    return cut + suffix


def free_name(target: Path, suffix: str | None = None) -> Path:
    """``target`` with its name bounded (``bounded_name``), or numbered ``<stem>.2<suffix>``,
    ``.3`` ... when a name is taken. ``suffix`` is what the number goes before (default: the
    last extension). A dangling link counts as taken (``lexists``): a link there is never
    replaced, nor written through."""
    name = target.name
    suffix = target.suffix if suffix is None else suffix
    if not name.endswith(suffix) or name == suffix:
        suffix = ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    first = target.with_name(bounded_name(stem, suffix))
    if not os.path.lexists(first):
        return first
    stem = first.name[: len(first.name) - len(suffix)] if suffix else first.name
    for n in range(2, _MAX_NUMBERED):
        candidate = target.with_name(bounded_name(stem, f".{n}{suffix}",
                                                  MAX_NAME_BYTES + _COUNTER_BYTES))
        if not os.path.lexists(candidate):
            return candidate
    raise FileExistsError(target)


def temporary_beside(target: Path) -> Path:
    """A new empty file ``.<name>.<random>.tmp`` in ``target``'s folder, to write and then
    rename over ``target`` (an atomic write). Created with mode 0666 less the process's umask,
    as a plain ``open()`` makes it: ``tempfile.mkstemp`` would make it 0600, and a report or
    template that operations hand on must keep the mode the deployment's umask asks for."""
    for _ in range(100):
        path = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name beside {target}")


def safe_filename(name: str, n: int, fallback: str = "attachment") -> str:
    """A submitter's file name (an attachment's, an upload's) made a basename only: no
    directories, ``..``, control characters or leading dots; ``<fallback>-<n>`` when nothing
    of it is left."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    kept = []
    for ch in name:
        if unicodedata.category(ch).startswith("C"):
            continue
        if (ch.isascii() and (ch.isalnum() or ch in "._ -")) or (not ch.isascii()
                                                                and ch.isalpha()):
            kept.append(ch)
        else:
            kept.append("_")
    clean = "".join(kept).strip(" .")
    clean = re.sub(r"_{2,}", "_", clean)
    if not clean.strip("_"):
        return f"{fallback}-{n}"
    stem, dot, ext = clean.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = clean, ""
    if stem.lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    # at most MAX_FILENAME characters to read, and MAX_NAME_BYTES on disk (above)
    return bounded_name(stem[: MAX_FILENAME - len(suffix)].rstrip(" ."), suffix)
