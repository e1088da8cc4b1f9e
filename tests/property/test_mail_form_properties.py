"""The e-mailed claim form (SPEC §3, rma.adapters.mail.forms): a form rendered from known values
reads back as those values, and no text at all makes the reader raise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rma.adapters.mail.forms import form_sheet, has_form_labels
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.sheet import SheetData
from rma.service.batch import check_format
from tests.property import strategies as sx
from tests.property.support import TODAY, examples, time_bound


def read(body: str) -> SheetData | None:
    with time_bound(10):
        return form_sheet(body, source=Path("message.form"), sha256="0" * 64)


@given(claims=st.lists(sx.form_claims(), min_size=1, max_size=4),
       preface=st.sampled_from(sx.PREFACES), signature=st.sampled_from(sx.SIGNATURES),
       history=st.sampled_from(sx.HISTORIES),
       separator=st.sampled_from(["---", "-----", "  ---  ", "----------"]))
def test_a_form_rendered_from_values_reads_back_as_those_values(claims, preface, signature,
                                                                history, separator):
    body = sx.render_form(claims, preface, signature, history, separator)
    sheet = read(body)
    assert sheet is not None, body
    expected = [c.values for c in claims]
    assert list(sheet.sent.index) == list(range(1, len(claims) + 1)), body
    present = [c for c in CANONICAL if any(c in values for values in expected)]
    assert list(sheet.sent.columns) == present
    assert sheet.columns == {c: c for c in present}
    for number, values in enumerate(expected, start=1):
        got = {c: v for c, v in sheet.sent.loc[number].items() if v is not None}
        if "serial_number" in got:
            # a repeated SN label whose value starts on the next line leaves an empty line
            # in the cell (harmless: SNs split on any whitespace)
            got["serial_number"] = "\n".join(p for p in got["serial_number"].split("\n") if p)
        wrong = {c: (got.get(c), values.get(c)) for c in {*got, *values}
                 if got.get(c) != values.get(c)}
        assert not wrong, f"claim {number}: (read, written) {wrong} in\n{body}"
    event(f"{len(claims)} claim(s)")


@settings(max_examples=examples(2))
@given(body=sx.mail_noise())
def test_any_body_gives_a_form_or_none_and_never_raises(body):
    sheet = read(body)
    assert (sheet is not None) == has_form_labels(body)
    event(f"a form: {sheet is not None}")
    if sheet is None:
        return
    assert sheet.file_format == "mail" and sheet.header_row == 0
    index = list(sheet.sent.index)
    assert index == sorted(set(index)) and all(isinstance(i, int) and i >= 1 for i in index)
    assert set(sheet.sent.columns) <= set(CANONICAL)
    for value in sheet.sent.to_numpy().ravel():
        assert value is None or (isinstance(value, str) and value == value.strip() and value)
    # and what the form gives, the format step takes without an exception
    with time_bound(20):
        rows, issues = check_format(sheet, TODAY)
    assert list(rows.index) == index
    assert set(issues["row"].astype(int)) <= set(index) | {0}
    assert isinstance(issues, pd.DataFrame)
