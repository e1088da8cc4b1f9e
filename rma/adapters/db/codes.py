"""Pure helpers for RMA codes and serial-number lists (SPEC §2): no database, no I/O."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

#: No 0/O, no 1/I: 32 symbols, so every symbol carries exactly 5 bits.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
BITS_PER_SYMBOL = 5
MIN_BITS = 40

_CODE_SEPARATORS = re.compile(r"[\s\-]+")
_SERIAL_SEPARATORS = re.compile(r"[,;\s]+")
CODE_KEY_PATTERN = re.compile(r"^[A-Z0-9]{4,64}$")
SERIAL_PATTERN = re.compile(r"^[A-Z0-9-]{6,20}$")


def normalise_code(text: object) -> str:
    """The key a code is matched by: upper-case, spaces and dashes removed.

    ``"k7qx p3mz"`` and ``"K7QX-P3MZ"`` both give ``"K7QXP3MZ"``; ``None`` gives ``""``.
    """
    if text is None:
        return ""
    return _CODE_SEPARATORS.sub("", str(text)).upper()


def code_digest(key: str) -> str:
    """What the database looks a code up by: SHA-256 of its key. A B-tree search over digests
    tells a timing observer nothing about how close a guessed code came to a real one."""
    return hashlib.sha256(f"rma-code:{key}".encode()).hexdigest()


def same_code(stored_key: str, given_key: str) -> bool:
    """The final comparison of a stored and a submitted code key, in constant time."""
    return hmac.compare_digest(stored_key.encode(), given_key.encode())


def generate_code(symbols: int = 10, group: int = 5) -> str:
    """A new code from the CSPRNG, e.g. ``"K7QXP-3MZA9"`` (10 symbols = 50 bits).

    ``group`` symbols are joined by dashes for readability; the dashes are not part of the key.
    """
    if symbols * BITS_PER_SYMBOL < MIN_BITS:
        raise ValueError(f"a code needs at least {MIN_BITS} bits; {symbols} symbols give "
                         f"{symbols * BITS_PER_SYMBOL}")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(symbols))
    if group <= 0:
        return raw
    return "-".join(raw[i:i + group] for i in range(0, len(raw), group))


def split_serials(text: object) -> list[str]:
    """Split an SN list on ``;`` ``,`` and whitespace; trim, upper-case, drop blanks and repeats.

    The order of first appearance is kept.
    """
    if text is None:
        return []
    seen: dict[str, None] = {}
    for part in _SERIAL_SEPARATORS.split(str(text)):
        part = part.strip().upper()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def join_serials(serials: list[str]) -> str:
    """The stored form of an SN list: ``;``-joined ('' means any SN of the account)."""
    return ";".join(serials)


def is_valid_serial(serial: str) -> bool:
    """6-20 characters of ``[A-Z0-9-]`` (the rule of SPEC §3, applied after upper-casing)."""
    return bool(SERIAL_PATTERN.match(serial))
