from __future__ import annotations

import math
from datetime import date, datetime, time

import pandas as pd
import pytest

from rma.adapters.reports.escape import (
    as_text,
    escape_formula,
    escape_markdown,
    is_blank,
    unescape_formula,
    xml_safe,
)


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "＝1+1"],
)
def test_dangerous_text_is_prefixed(value: str) -> None:
    assert escape_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["SN123456", "a=b", " =1", "", "'quoted"])
def test_harmless_text_is_unchanged(value: str) -> None:
    assert escape_formula(value) == value


@pytest.mark.parametrize("value", ["'=already", "''-2", "'+49 30"])
def test_text_with_its_own_quote_before_a_trigger_gains_one_and_gets_it_back(value: str
                                                                            ) -> None:
    assert escape_formula(value) == "'" + value
    assert unescape_formula(escape_formula(value)) == value


@pytest.mark.parametrize("value", [-5, 1.5, None, date(2025, 1, 2), True])
def test_non_strings_are_unchanged(value: object) -> None:
    assert escape_formula(value) == value


def test_xml_safe_replaces_control_characters_but_keeps_tab_and_newline() -> None:
    assert xml_safe("a\x00b\x07c\td\ne") == "a\ufffdb\ufffdc\td\ne"


def test_markdown_escape_flattens_and_escapes() -> None:
    assert escape_markdown("a|b\n![x](http://e)") == "a\\|b !\\[x\\](http://e)"
    assert escape_markdown("<img src=x>") == "\\<img src=x\\>"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (float("nan"), ""),
        (pd.NaT, ""),
        (pd.NA, ""),
        ("0123", "0123"),
        (12345.0, "12345"),
        (1.5, "1.5"),
        (42, "42"),
        (True, "TRUE"),
        (datetime(2025, 3, 4), "2025-03-04"),
        (datetime(2025, 3, 4, 8, 30), "2025-03-04 08:30:00"),
        (date(2025, 3, 4), "2025-03-04"),
        (time(8, 30), "08:30:00"),
        (pd.Timestamp("2025-03-04"), "2025-03-04"),
    ],
)
def test_as_text(value: object, text: str) -> None:
    assert as_text(value) == text


def test_is_blank() -> None:
    assert is_blank(None) and is_blank(math.nan) and is_blank(pd.NaT)
    assert not is_blank("") and not is_blank(0)
