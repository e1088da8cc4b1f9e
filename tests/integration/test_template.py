from __future__ import annotations

from pathlib import Path

import pycountry
import pytest
from openpyxl import load_workbook

from rma.adapters.reports.template import HELP_SHEET, LISTS_SHEET, write_template
from rma.domain.vocabulary.columns import CANONICAL, COUNTRY_COLUMNS, DATE_COLUMNS, canonical_name


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl") / "claims-template.xlsx")


def _letter(ws, column: str) -> str:
    return ws.cell(row=1, column=CANONICAL.index(column) + 1).column_letter


def test_header_is_canonical_and_recognised(template: Path) -> None:
    ws = load_workbook(template)["Claims"]
    headers = [c.value for c in ws[1]]
    assert tuple(headers) == CANONICAL
    assert [canonical_name(h) for h in headers] == list(CANONICAL)
    assert all(c.font.bold for c in ws[1])
    assert all(c.comment is not None and c.comment.text for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1  # no sample rows that could be ingested as claims


def test_sheets(template: Path) -> None:
    wb = load_workbook(template)
    assert wb.sheetnames == ["Claims", LISTS_SHEET, HELP_SHEET]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    assert wb.active.title == "Claims"
    codes = [c.value for c in wb[LISTS_SHEET]["A"][1:]]
    assert sorted(codes) == sorted(c.alpha_2 for c in pycountry.countries)
    assert "DE" in codes and len(codes) == len(set(codes))


def test_country_and_date_validations(template: Path) -> None:
    ws = load_workbook(template)["Claims"]
    by_range = {str(r): dv for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    for column in COUNTRY_COLUMNS:
        letter = _letter(ws, column)
        dv = by_range[f"{letter}2:{letter}5000"]
        assert dv.type == "list"
        assert dv.formula1.startswith(f"{LISTS_SHEET}!$A$2:$A$")
    for column in DATE_COLUMNS:
        letter = _letter(ws, column)
        assert by_range[f"{letter}2:{letter}5000"].type == "date"
        assert ws.column_dimensions[letter].number_format == "yyyy-mm-dd"


@pytest.mark.parametrize(
    "column",
    ["serial_number", "recipient_postcode", "site_postcode", "recipient_phone", "error_code"],
)
def test_text_columns_keep_leading_zeros(template: Path, column: str) -> None:
    ws = load_workbook(template)["Claims"]
    assert ws.column_dimensions[_letter(ws, column)].number_format == "@"


def test_help_sheet_explains_every_column(template: Path) -> None:
    ws = load_workbook(template)[HELP_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "Column")
    table = {r[0]: r for r in rows[start + 1 :] if r[0]}
    assert list(table) == list(CANONICAL)
    assert table["serial_number"][2] == "Yes"
    assert table["recipient_name"][2].startswith("Yes, unless")
    assert table["notes"][2] == "No"
    text = " ".join(str(v) for r in rows for v in r if v)
    for phrase in (
        "03/04/2025",
        "DD.MM.YYYY",
        "claim_ref",
        "Distributors",
        "Gold",
        "Customer Service's value is used",
    ):
        assert phrase in text


def test_threshold_is_configurable(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx", threshold="silver")
    rows = load_workbook(path)[HELP_SHEET].iter_rows(values_only=True)
    assert any("Silver level or above" in str(v) for r in rows for v in r)
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_a_filled_template_reads_back_through_the_reader(tmp_path: Path) -> None:
    from datetime import date

    from rma.adapters.readers import read_batch

    path = write_template(tmp_path / "filled.xlsx")
    wb = load_workbook(path)
    ws = wb["Claims"]
    ws.append(["C-1", None, None, "SN0012345", None, "Inverter dead", None, date(2024, 5, 1)])
    wb.save(path)
    sheet = read_batch(path)
    assert sheet.sheet == "Claims" and sheet.header_row == 1
    assert sheet.columns == {c: c for c in CANONICAL}
    assert sheet.unknown_columns == []
    assert list(sheet.sent.index) == [2]
    assert sheet.sent.at[2, "serial_number"] == "SN0012345"
