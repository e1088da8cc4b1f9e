"""Pure code/SN helpers (SPEC §2)."""

from __future__ import annotations

import re

import pytest

from rma.adapters.db.codes import (
    ALPHABET,
    generate_code,
    is_valid_serial,
    join_serials,
    normalise_code,
    split_serials,
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("k7qx p3mz", "K7QXP3MZ"),
        ("K7QX-P3MZ", "K7QXP3MZ"),
        ("  k7qx - p3mz\t", "K7QXP3MZ"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_code(text, key):
    assert normalise_code(text) == key


def test_alphabet_is_unambiguous_and_32_symbols():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("01OI") & set(ALPHABET)


def test_generate_code_format_and_entropy():
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000  # 50 bits: a repeat here would be a broken generator
    for code in list(codes)[:50]:
        assert re.fullmatch(rf"[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}", code)
        assert normalise_code(code) == code.replace("-", "")
    used = set("".join(codes).replace("-", ""))
    assert used == set(ALPHABET)


def test_generate_code_refuses_under_40_bits():
    with pytest.raises(ValueError):
        generate_code(symbols=7)
    assert len(generate_code(symbols=8, group=0)) == 8


def test_split_serials():
    assert split_serials(" sn-0001a; SN-0002B,sn-0003c\nsn-0004d  sn-0001A") == [
        "SN-0001A", "SN-0002B", "SN-0003C", "SN-0004D"
    ]
    assert split_serials("") == []
    assert split_serials(None) == []
    assert join_serials(["A", "B"]) == "A;B"


@pytest.mark.parametrize(
    ("serial", "ok"),
    [("ABC123", True), ("INV-2024-000001", True), ("ABC12", False), ("A" * 21, False),
     ("ABC 123", False), ("abc123", False)],
)
def test_is_valid_serial(serial, ok):
    assert is_valid_serial(serial) is ok
