"""The command line contract of SPEC §7, command by command: exit statuses, one-line errors,
the template, issued codes, folders, row accounts and one real `rma` process."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from rma.adapters.db.tables import accounts
from rma.adapters.readers import read_batch
from rma.domain.vocabulary.columns import CANONICAL
from rma.entrypoints.cli import main
from rma.errors import BatchError
from tests.e2e.conftest import Cli, run_subprocess, write_reference
from tests.factories import valid_claim, write_csv, write_xlsx

#: These commands behave the same on both databases (the other e2e files cover PostgreSQL);
#: SQLite alone keeps the run short.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CODE_FORMAT = re.compile(r"^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$")


@pytest.fixture
def rma(capsys: pytest.CaptureFixture[str], workdir: Path) -> Cli:
    """The CLI in-process for commands that run no flow (no Prefect server needed)."""
    return Cli(capsys)


def _one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rma: ")
    return lines[0]


# --------------------------------------------------------------------------- template


@SQLITE_ONLY
def test_the_template_is_a_claims_sheet_that_reads_back_as_an_empty_batch(rma, workdir):
    (workdir / "out").mkdir()
    run = rma("template", str(workdir / "out" / "template.xlsx"))
    assert run.code == 0, run.err
    path = workdir / "out" / "template.xlsx"
    assert str(path) in run.out
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[0] == "Claims"
    assert [c.value for c in workbook["Claims"][1]] == list(CANONICAL)
    with pytest.raises(BatchError) as caught:
        read_batch(path)
    assert caught.value.code == "EMPTY_BATCH"


@pytest.mark.prefect
@SQLITE_ONLY
def test_a_row_filled_into_the_template_is_ingested_and_accepted(cli, workdir):
    path = workdir / "template.xlsx"
    assert cli("template", str(path)).code == 0
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Claims"]
    row = valid_claim(claim_ref="TPL-1", serial_number="SNTEMPLATE1",
                      installation_date=dt.date(2025, 3, 1), fault_date=dt.date(2025, 9, 15))
    for column, name in enumerate(CANONICAL, start=1):
        sheet.cell(row=2, column=column, value=row[name])
    workbook.save(path)

    run = cli("ingest", str(path), "--account", "D-001", "--json")
    assert run.code == 0, run.err
    batch = run.json()["batches"][0]
    assert batch["status"] == "posted"
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 0)
    assert batch["rejections"] == [] and batch["warnings"] == []
    [claim] = cli("claims", "list", "--json").json()["claims"]
    assert claim["claim_ref"] == "TPL-1" and claim["serial_numbers"] == ["SNTEMPLATE1"]
    assert claim["installation_date"] == "2025-03-01"


# --------------------------------------------------------------------------- codes


@pytest.mark.prefect
@SQLITE_ONLY
def test_an_issued_code_is_unambiguous_and_prefills_an_installer_claim_typed_in_lower_case(
        cli, workdir):
    run = cli("codes", "issue", "--account", "I-SILVER", "--sn", "SNISSUED01",
              "--recipient-name", "Jo", "--recipient-phone", "+49 89 7654321",
              "--recipient-address", "Marienplatz 1", "--recipient-city", "Munich",
              "--recipient-postcode", "80331", "--recipient-country", "DE",
              "--site-address", "Dachweg 9", "--site-country", "DE",
              "--product-model", "HX-8K-3P", "--fault-description", "No output after storm")
    assert run.code == 0, run.err
    code = run.out.strip()
    assert CODE_FORMAT.match(code), code

    typed = code.lower().replace("-", " ")
    blank = dict.fromkeys(("recipient_name", "recipient_phone", "recipient_address",
                           "recipient_city", "recipient_postcode", "recipient_country",
                           "recipient_company", "recipient_email", "site_address",
                           "site_city", "site_postcode", "site_country", "product_model",
                           "fault_description", "error_code"))
    path = write_csv(workdir / "installer.csv", [
        valid_claim(claim_ref="INST-1", rma_code=typed, serial_number="SNISSUED01", **blank),
    ])
    ingest = cli("ingest", str(path), "--account", "I-SILVER", "--json")
    assert ingest.code == 0, ingest.err
    batch = ingest.json()["batches"][0]
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 0), batch
    assert batch["rejections"] == []
    [claim] = cli("claims", "list", "--account", "I-SILVER", "--json").json()["claims"]
    assert claim["rma_code"] == code.replace("-", "")
    assert claim["recipient_name"] == "Jo"
    assert claim["recipient_city"] == "Munich"
    assert claim["recipient_phone"] == "+49897654321"
    assert claim["site_address"] == "Dachweg 9"
    assert claim["fault_description"] == "No output after storm"


@SQLITE_ONLY
def test_issuing_a_code_for_an_unknown_account_fails_with_one_line_and_no_traceback(rma):
    run = rma("codes", "issue", "--account", "NOBODY", "--sn", "SNISSUED02")
    assert run.code == 1
    assert run.out == ""
    assert "NOBODY" in _one_line_error(run.err)


# --------------------------------------------------------------------------- usage


@SQLITE_ONLY
def test_ingesting_a_path_that_does_not_exist_is_wrong_usage(rma, workdir):
    run = rma("ingest", str(workdir / "missing.xlsx"), "--account", "D-001")
    assert run.code == 2
    assert "missing.xlsx" in _one_line_error(run.err)


@pytest.mark.parametrize("argv", [[], ["--bogus"], ["ingest"], ["claims", "list", "--nope"],
                                  ["codes", "issue"]],
                         ids=["no-command", "bad-option", "no-path", "bad-sub-option",
                              "no-account"])
def test_rma_without_a_command_or_with_a_bad_option_is_wrong_usage(argv, tmp_path):
    done = run_subprocess(argv, {"RMA_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"},
                          tmp_path, timeout=60)
    assert done.returncode == 2
    assert "usage: rma" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("argv", [
    ["claims", "list"],
    ["claims", "list", "--json"],
    ["accounts", "import", "{accounts}"],
    ["codes", "import", "{codes}"],
    ["codes", "issue", "--account", "D-001"],
    ["codes", "unlock", "D-001"],
    ["ingest", "{claims}", "--account", "D-001", "--json"],
    ["run-inbox", "--inbox", "{inbox}"],
], ids=lambda argv: " ".join(a for a in argv if not a.startswith("{")))
def test_a_command_before_db_upgrade_exits_1_and_says_to_run_db_upgrade(
        argv, sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RMA_DATABASE_URL", sqlite_url)
    accounts_file, codes_file = write_reference(tmp_path)
    claims_file = write_csv(tmp_path / "claims.csv", [valid_claim()])
    (tmp_path / "inbox" / "D-001").mkdir(parents=True)
    write_csv(tmp_path / "inbox" / "D-001" / "waiting.csv", [valid_claim()])
    paths = {"{accounts}": str(accounts_file), "{codes}": str(codes_file),
             "{claims}": str(claims_file), "{inbox}": str(tmp_path / "inbox")}

    code = main([paths.get(a, a) for a in argv])
    captured = capsys.readouterr()
    assert code == 1
    message = _one_line_error(captured.err)
    assert "rma db upgrade" in message
    if "--json" in argv:  # one document all the same, saying why nothing ran
        assert json.loads(captured.out)["error"] == {"code": "DATABASE_MISSING",
                                                     "message": message.removeprefix("rma: ")}
    else:
        assert captured.out == ""
    assert not (tmp_path / "claims.db").exists()   # nothing was created on the way
    assert (tmp_path / "inbox" / "D-001" / "waiting.csv").is_file()


# --------------------------------------------------------------------------- reference data


@SQLITE_ONLY
def test_importing_accounts_with_a_bad_row_exits_1_names_the_row_and_imports_nothing(
        rma, workdir, db_url):
    path = workdir / "more-accounts.csv"
    path.write_text(
        "account_id,name,kind,partner_level,emails,country,active\n"
        "D-100,New Distribution,distributor,,,DE,true\n"
        "I-100,New Installs,reseller,silver,,DE,true\n",
        encoding="utf-8",
    )
    run = rma("accounts", "import", str(path))
    assert run.code == 1
    assert "Traceback" not in run.err
    assert run.err.startswith("rma: ")
    assert "row 3" in run.err and "kind" in run.err and "reseller" in run.err
    assert "row 2" not in run.err
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            ids = set(conn.execute(sa.select(accounts.c.account_id)).scalars())
    finally:
        engine.dispose()
    assert ids == {"D-001", "D-002", "I-SILVER", "I-GOLD", "X-OFF"}


# --------------------------------------------------------------------------- ingest and list


@pytest.mark.prefect
@SQLITE_ONLY
def test_claims_list_prints_every_posted_claim_with_its_serial_numbers(cli, workdir):
    empty = cli("claims", "list")
    assert empty.code == 0 and empty.out.strip() == "No claims."

    path = write_csv(workdir / "two.csv", [
        valid_claim(claim_ref="LIST-1", serial_number="SNLIST0001; SNLIST0002"),
        valid_claim(claim_ref="LIST-2", serial_number="SNLIST0003"),
    ])
    batch = cli("ingest", str(path), "--account", "D-001", "--json").json()["batches"][0]
    assert batch["claims_accepted"] == 2

    run = cli("claims", "list")
    assert run.code == 0, run.err
    lines = run.out.strip().splitlines()
    assert len(lines) == 2
    first, second = sorted(lines)
    assert first.startswith(batch["claim_ids"][0])
    assert "D-001" in first and "LIST-1" in first and "submitted" in first
    assert "SNLIST0001, SNLIST0002" in first
    assert second.startswith(batch["claim_ids"][1]) and "SNLIST0003" in second
    assert cli("claims", "list", "--account", "D-002").out.strip() == "No claims."


@pytest.mark.prefect
@SQLITE_ONLY
def test_ingesting_a_folder_posts_one_batch_per_file(cli, workdir):
    folder = workdir / "uploads"
    folder.mkdir()
    write_csv(folder / "one.csv", [valid_claim(), valid_claim()])
    write_xlsx(folder / "two.xlsx", [valid_claim()])
    write_csv(folder / "three.csv", [valid_claim(), valid_claim(recipient_country="Atlantis")])

    run = cli("ingest", str(folder), "--account", "D-001", "--json")
    assert run.code == 0, run.err
    batches = run.json()["batches"]
    assert sorted(Path(b["source"]).name for b in batches) == ["one.csv", "three.csv",
                                                              "two.xlsx"]
    assert all(b["status"] == "posted" and b["account_id"] == "D-001" for b in batches)
    assert len({b["batch_id"] for b in batches}) == 3
    accepted = {Path(b["source"]).name: b["claims_accepted"] for b in batches}
    assert accepted == {"one.csv": 2, "two.xlsx": 1, "three.csv": 1}
    assert (folder / "one.csv").is_file()                  # `rma ingest` never moves files
    assert len(cli("claims", "list", "--json").json()["claims"]) == 4


@pytest.mark.prefect
@SQLITE_ONLY
def test_a_file_ingested_by_hand_without_account_takes_each_rows_account_id(cli, workdir):
    path = write_csv(workdir / "mixed.csv", [
        valid_claim(claim_ref="MIX-1", account_id="D-001"),
        valid_claim(claim_ref="MIX-2", account_id="D-002"),
        valid_claim(claim_ref="MIX-3", account_id=None),
    ])
    run = cli("ingest", str(path), "--json")
    assert run.code == 0, run.err
    batch = run.json()["batches"][0]
    assert batch["status"] == "posted" and batch["account_id"] is None
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (2, 1)
    assert [(r["row"], r["column"], r["code"]) for r in batch["rejections"]] == [
        (4, "account_id", "MISSING_FIELD")]
    listed = cli("claims", "list", "--json").json()["claims"]
    assert {(c["claim_ref"], c["account_id"]) for c in listed} == {("MIX-1", "D-001"),
                                                                   ("MIX-2", "D-002")}


# --------------------------------------------------------------------------- a real process


@pytest.mark.prefect
@SQLITE_ONLY
def test_a_real_rma_ingest_process_prints_exactly_one_json_document_on_stdout(
        workdir, db_url, prefect_api, tmp_path_factory):
    path = write_xlsx(workdir / "real.xlsx", [valid_claim(), valid_claim(recipient_name=None)])
    env = {"RMA_DATABASE_URL": db_url, "PREFECT_API_URL": prefect_api,
           "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))}
    done = run_subprocess(["ingest", str(path), "--account", "D-001", "--json"], env, workdir,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    assert list(document) == ["batches"]
    [batch] = document["batches"]
    assert batch["status"] == "posted"
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 1)
    assert Path(batch["reports"]["xlsx"]).is_file()
