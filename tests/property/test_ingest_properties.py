"""Invariants of a whole batch against a real SQLite database: ingest_sheet (checked against
the pure decision) and ingest_file over generated .csv/.xlsx files, whose rejection
reports must point at the rows of the file as the submitter sees them.

Every example starts from a copy of one seeded database (support.seed_database), so the
examples do not depend on each other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import python_calamine
import sqlalchemy as sa
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.readers import read_batch
from rma.adapters.readers.header import header_text
from rma.adapters.reports.escape import as_text, escape_csv_field
from rma.adapters.reports.xlsx_cells import xlsx_value
from rma.adapters.reports.xlsx_rows import REJECTIONS_SHEET
from rma.domain.rules.decide import decide
from rma.domain.rules.normalise import normalise
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.reasons import is_warning
from rma.domain.vocabulary.results import BatchResult
from rma.service.batch import check_format, ingest_file, ingest_sheet
from rma.service.origin import Origin
from schemas.claims import raw_claims_schema, resolved_claims_schema
from schemas.failures import validate
from tests import rules
from tests.factories import write_csv, write_xlsx
from tests.property import strategies as sx
from tests.property.support import (
    NOW,
    POLICY,
    SCRATCH,
    SETTINGS,
    TODAY,
    Fates,
    assert_partition,
    claim_groups,
    examples,
    reference,
    seed_database,
    text_claims,
    time_bound,
)

REFERENCE = reference()


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory) -> Path:
    return seed_database(tmp_path_factory.mktemp("seed"))


@dataclass
class Workspace:
    folder: Path
    engine: sa.Engine

    @property
    def reports(self) -> Path:
        return self.folder / "reports"


@contextmanager
def workspace(seed: Path) -> Iterator[Workspace]:
    """A fresh copy of the seeded database and an empty folder, for one example."""
    with tempfile.TemporaryDirectory(prefix="rma-prop-", dir=SCRATCH) as tmp:
        folder = Path(tmp)
        shutil.copyfile(seed, folder / "claims.db")
        engine = make_engine(f"sqlite:///{folder / 'claims.db'}")
        try:
            yield Workspace(folder, engine)
        finally:
            engine.dispose()


def _errors_and_warnings(result: BatchResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = ["row", "column", "code"]
    errors = pd.DataFrame([{k: r[k] for k in columns} for r in result.rejections],
                          columns=columns)
    warnings = pd.DataFrame([{k: w[k] for k in columns} for w in result.warnings],
                            columns=columns)
    return errors, warnings


def posted_rows(engine: sa.Engine, batch_id: str) -> tuple[list[int], list[int]]:
    """The sheet rows of the batch's posted SN lines, and its claims' first rows."""
    with engine.connect() as conn:
        lines = conn.execute(
            sa.select(t.claim_lines.c.sheet_row)
            .join(t.claims, t.claims.c.claim_id == t.claim_lines.c.claim_id)
            .where(t.claims.c.batch_id == batch_id)).scalars().all()
        firsts = conn.execute(sa.select(t.claims.c.first_row)
                              .where(t.claims.c.batch_id == batch_id)).scalars().all()
    return sorted(set(lines)), sorted(firsts)


def posted_claims(engine: sa.Engine, batch_id: str) -> pd.DataFrame:
    """The batch's claims as stored, back in canonical columns as text."""
    with engine.connect() as conn:
        listed = [c for c in ClaimsRepository(conn).list_claims() if c["batch_id"] == batch_id]
    frame = pd.DataFrame([{**c, "serial_number": "\n".join(c["serial_numbers"])}
                          for c in listed], columns=[*CANONICAL, "claim_id"])
    return text_claims(frame)


def assert_batch_posted_once(engine: sa.Engine, result: BatchResult, rows: pd.DataFrame,
                             origin: str | None, header_row: int) -> list[int]:
    """Invariants 1 and 2 read back from the database: the accepted rows are the rows of
    the posted SN lines, the rejected ones the rows of every claim that has an error.
    Returns the rejected rows."""
    assert result.status == "posted", result.to_json()
    groups = claim_groups(rows, origin)
    errors, warnings = _errors_and_warnings(result)
    error_rows = set(errors["row"].astype(int))
    rejected = [r for members in groups.values() if error_rows & set(members)
                for r in members]
    accepted, firsts = posted_rows(engine, result.batch_id)
    assert_partition(Fates(accepted, rejected), list(rows.index.astype(int)), groups, errors,
                     warnings, result.claims_accepted, result.claims_rejected, header_row)
    assert len(firsts) == result.claims_accepted == len(result.claim_ids)
    starts = {min(members) for members in groups.values()}
    assert set(firsts) <= starts, "a posted claim does not start at its first row"
    claims = posted_claims(engine, result.batch_id)
    assert len(claims) == result.claims_accepted
    for schema in (resolved_claims_schema(), raw_claims_schema(TODAY)):
        failures = validate(schema, claims[list(CANONICAL)])
        assert failures.empty, f"posted claims fail {schema.name}: {failures.to_dict('records')}"
    return rejected


# ----------------------------------------------------------------- ingest_sheet


YEAR_ZERO = sx.Batch("D-001", (dict.fromkeys(CANONICAL) | rules.claim(
    installation_date="0000-01-01", fault_date="01.01.0000"),), (2,), 1)


@settings(max_examples=examples(0.4))
@given(batch=sx.batches(max_rows=5))
@example(batch=YEAR_ZERO)  # accepted, then the posting raised: see the date property
def test_ingest_sheet_posts_what_the_pure_decision_decides_and_every_row_once(seed_db, batch):
    sha = hashlib.sha256(repr(batch).encode()).hexdigest()
    sheet = batch.sheet(source="form.xlsx", sha256=sha)
    rows, issues = check_format(sheet, TODAY)
    decision = decide(rows, issues, batch.origin, REFERENCE, POLICY)
    with workspace(seed_db) as ws, time_bound(30):
        result = ingest_sheet(sheet, Origin(batch.origin, "property"), ws.engine, SETTINGS,
                              ws.reports, now=NOW)
        assert_batch_posted_once(ws.engine, result, rows, batch.origin, batch.header_row)
    event(f"accepted {min(result.claims_accepted, 2)}+, rejected {min(result.claims_rejected, 2)}+")
    # the database's reference data and the built one agree: the same decision
    assert (result.claims_accepted, result.claims_rejected) == (
        decision.claims_accepted, decision.claims_rejected)
    errors, warnings = _errors_and_warnings(result)
    pure = decision.issues
    warning = pure["code"].map(is_warning).astype(bool).to_numpy()

    def listed(frame: pd.DataFrame) -> list[tuple]:
        return sorted(zip(frame["row"].astype(int), frame["column"], frame["code"],
                          strict=True))

    assert listed(errors) == listed(pure[~warning])
    assert listed(warnings) == listed(pure[warning])


# ----------------------------------------------------------------- ingest_file + reports


@dataclass(frozen=True)
class ClaimFile:
    """A batch written to a real file: its grid as written (row 1 first)."""

    batch: sx.Batch
    fmt: str  # "csv" or "xlsx"
    headers: tuple[str, ...]  # the header cells, in file order
    columns: tuple[str | None, ...]  # the canonical column under each header (None: unknown)
    grid: tuple[tuple[object, ...], ...]  # every row of the file, title and blank rows too
    bom: bool

    def write(self, path: Path) -> Path:
        if self.fmt == "csv":
            return write_csv(path, list(self.grid), bom=self.bom)
        return write_xlsx(path, list(self.grid))


@st.composite
def claim_files(draw) -> ClaimFile:
    """A batch as a file: title and blank rows above the header, headers in any spelling
    and order (maybe an unknown column), blank rows between the claims."""
    batch = draw(sx.batches(max_rows=5))
    fmt = draw(st.sampled_from(["csv", "xlsx"]))
    order = draw(st.permutations(CANONICAL))
    columns: list[str | None] = list(order)
    headers = [draw(st.sampled_from(sx.LABEL_VARIANTS[c])) for c in order]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(headers)))
        headers.insert(at, "Internal note")
        columns.insert(at, None)
    titles = [draw(st.sampled_from([(), ("RMA claims, March",), (None, "Distributor D-001"),
                                    ()]))
              for _ in range(batch.header_row - 1)]
    grid: list[tuple[object, ...]] = [*titles, tuple(headers)]
    for number, row in zip(batch.row_numbers, batch.rows, strict=True):
        while len(grid) < number - 1:
            grid.append(())
        extra = draw(sx.cells()) if None in columns else None
        grid.append(tuple(sx.for_file(row.get(c) if c else extra, fmt) for c in columns))
    return ClaimFile(batch, fmt, tuple(headers), tuple(columns), tuple(grid),
                     bom=draw(st.booleans()))


class FileAsSeen:
    """The file as the submitter sees it in Excel, read without the pipeline's reader."""

    def __init__(self, path: Path, fmt: str) -> None:
        if fmt == "csv":
            text = path.read_bytes().decode("utf-8-sig")
            self.rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
        else:
            sheet = load_workbook(path, data_only=True)["Claims"]
            self.rows = [[_as_excel_holds(c.value) for c in row] for row in sheet.iter_rows()]

    def cell(self, row: int, column: int) -> object:
        cells = self.rows[row - 1] if 0 < row <= len(self.rows) else []
        value = cells[column] if column < len(cells) else None
        return None if value == "" else value

    def blank(self, row: int) -> bool:
        cells = self.rows[row - 1] if 0 < row <= len(self.rows) else []
        return all(v is None or v == "" for v in cells)


def _as_excel_holds(value: object) -> object:
    """A workbook cell as Excel holds it: every number is a double (openpyxl gives an int
    for one written without a decimal point). A text of XML whitespace only, stored without
    xml:space="preserve", is blank to calamine and ' ' to openpyxl: blank (the format step
    blanks such a cell anyway)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and not value.strip(" \t\r\n"):
        return None
    return value


def seen_text(value: object) -> str:
    """A cell as rejections.csv echoes it."""
    return escape_csv_field(as_text(value))


def assert_csv_report_matches_file(report: Path, seen: FileAsSeen, file: ClaimFile,
                                   result: BatchResult) -> None:
    header_row = file.batch.header_row
    position = {c: i for i, c in enumerate(file.columns) if c is not None}
    header_at = {header_text(h): i for i, h in enumerate(file.headers)}
    with report.open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert records, "a report without lines"
    for rec in records:
        assert rec["row"], rec
        row = int(rec["row"])
        if row == header_row:
            assert rec["code"] == "UNKNOWN_COLUMN", rec
            assert rec["column"] in header_at, rec
            continue
        assert not seen.blank(row), f"the report names row {row}, blank in the file: {rec}"
        where = f"report line {rec} vs row {row} of the file {seen.rows[row - 1]}"
        assert rec["claim_ref"] == seen_text(seen.cell(row, position["claim_ref"])), where
        assert rec["serial_number"] == seen_text(seen.cell(row, position["serial_number"])), \
            where
        if rec["column"] in position:
            assert rec["value"] == seen_text(seen.cell(row, position[rec["column"]])), where
    listed = {(int(r["row"]), r["column"], r["code"]) for r in records}
    told = {(r["row"], r["column"], r["code"]) for r in [*result.rejections, *result.warnings]}
    assert listed == told, "rejections.csv and the batch result list different issues"


def xml_text(value: object) -> str:
    """A cell as an .xlsx gives it back: XML reads every CR and CRLF as LF (XML 1.0 §2.11)."""
    return as_text(value).replace("\r\n", "\n").replace("\r", "\n")


def assert_xlsx_report_matches_file(report: Path, seen: FileAsSeen, file: ClaimFile,
                                    rejected: list[int]) -> None:
    # calamine, not openpyxl: it decodes the _xHHHH_ escapes (OOXML) a writer uses for
    # control characters, as Excel does
    with python_calamine.CalamineWorkbook.from_path(str(report)) as workbook:
        table = workbook.get_sheet_by_name(REJECTIONS_SHEET).to_python(skip_empty_area=False)
    table = [[None if v == "" else v for v in row] for row in table]
    head, body = table[0], table[1:]
    assert head[:2] == ["Row", "Errors"], head
    header_at = {header_text(h): i for i, h in enumerate(file.headers)}
    shown = set()
    for line in body:
        row = int(line[0])
        shown.add(row)
        assert not seen.blank(row), f"Rejections sheet row {row} is blank in the file"
        for header, value in zip(head[2:], line[2:], strict=True):
            expected = xlsx_value(seen.cell(row, header_at[header]))
            assert xml_text(value) == xml_text(expected), (
                f"Rejections sheet, row {row}, column {header}: {value!r}, "
                f"but the file holds {expected!r}")
    assert set(rejected) <= shown, "a rejected row is missing from the Rejections sheet"


@settings(max_examples=examples(0.4))
@given(file=claim_files())
def test_rejection_reports_point_at_the_rows_of_the_file_as_the_submitter_sees_them(
        seed_db, file):
    with workspace(seed_db) as ws, time_bound(30):
        path = file.write(ws.folder / f"claims.{file.fmt}")
        result = ingest_file(path, Origin(file.batch.origin, "property"), ws.engine, SETTINGS,
                             ws.reports, now=NOW)
        seen = FileAsSeen(path, file.fmt)
        event(f"{file.fmt}: {result.status}, reports: {bool(result.reports)}")
        if result.status == "failed":
            # every claim row came out blank in the file (e.g. only formulas without a value)
            assert result.error["code"] == "EMPTY_BATCH", result.error
            assert all(seen.blank(r) for r in file.batch.row_numbers)
            return
        sheet = read_batch(path)
        assert sheet.header_row == file.batch.header_row
        rows, _ = normalise(sheet.canonical())
        rejected = assert_batch_posted_once(ws.engine, result, rows, file.batch.origin,
                                            file.batch.header_row)
        if not result.reports:
            assert not result.rejections and not result.warnings
            return
        assert_csv_report_matches_file(Path(result.reports["csv"]), seen, file, result)
        assert_xlsx_report_matches_file(Path(result.reports["xlsx"]), seen, file, rejected)
