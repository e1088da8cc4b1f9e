"""Text from a submitter (a file name, a sheet name, a sender) on the console and in logs:
every character that could end, rewrite or reorder a line is shown escaped.

A file may be named ``a\\n[9/9] D-001/x.csv: accepted.csv``: printed as it is, it forges a
progress line; a carriage return or an ESC sequence overwrites what the operator reads, and
U+2028/U+2029 break lines in some viewers. So C0 and C1 controls, DEL, the line and paragraph
separators and the bidi marks become ``\\n``, ``\\x1b``, ``\\u2028``..., and a byte of a name
that is not UTF-8 (kept by Python as a lone surrogate) becomes ``\\xNN``, which a strict
UTF-8 console could not print at all. ``--json`` keeps the real names (JSON escapes them).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: object) -> str:
    """``text`` as one safe stretch of a console line (see the module docstring)."""
    return _UNSAFE.sub(_escaped, str(text))


def is_plain(text: str) -> bool:
    """Nothing in ``text`` needs escaping."""
    return _UNSAFE.search(text) is None
