"""The command line when the claims database is missing, unreachable, not migrated or newer
than the program (SPEC §7): one line on stderr, never a traceback, nothing created or
changed, and with ``--json`` still one JSON document on stdout saying why nothing ran."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import head_revision, make_engine, upgrade
from rma.adapters.db.tables import rma_codes
from rma.entrypoints.cli import main
from tests.e2e.conftest import write_reference
from tests.factories import valid_claim, write_csv

FUTURE = "9999_from_a_newer_program"

#: every command that reads or writes the claims database, as run by operations
DATABASE_COMMANDS = [
    ["status"],
    ["claims", "list"],
    ["ingest", "{claims}", "--account", "D-001"],
    ["run-inbox"],
    ["accounts", "import", "{accounts}"],
    ["codes", "import", "{codes}"],
    ["codes", "issue", "--account", "D-001"],
    ["codes", "unlock", "D-001"],
    ["serve", "--once"],
]
#: the commands with --json, and the lists their document holds
JSON_COMMANDS = {
    "ingest": (["ingest", "{claims}", "--account", "D-001", "--json"], {"batches": []}),
    "run-inbox": (["run-inbox", "--json"], {"batches": []}),
    "claims list": (["claims", "list", "--json"], {"claims": []}),
    "status": (["status", "--json"],
               {"runs": [], "waiting": {"files": [], "mail": []}, "quarantined": []}),
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A working folder with reference files, a claim file and an inbox with a file waiting;
    the placeholders of the command lines above."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RMA_INBOX", str(tmp_path / "inbox"))
    accounts, codes = write_reference(tmp_path)
    (tmp_path / "inbox" / "D-001").mkdir(parents=True)
    write_csv(tmp_path / "inbox" / "D-001" / "waiting.csv", [valid_claim()])
    return {"{accounts}": str(accounts), "{codes}": str(codes),
            "{claims}": str(write_csv(tmp_path / "claims.csv", [valid_claim()]))}


def run(capsys: pytest.CaptureFixture[str], argv: list[str], places: dict[str, str]
        ) -> tuple[int, str, str]:
    """``rma argv`` in-process: exit status, stdout, and the one line on stderr."""
    capsys.readouterr()
    code = main([places.get(a, a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rma: "), err
    return code, out, lines[0].removeprefix("rma: ")


def check_json(capsys, places: dict[str, str], code: str, status: int = 1) -> list[str]:
    """Every --json command prints its document, lists empty, with ``error`` of ``code``
    carrying the stderr line; returns the messages."""
    messages = []
    for argv, lists in JSON_COMMANDS.values():
        exit_status, out, message = run(capsys, argv, places)
        assert exit_status == status, (argv, message)
        assert json.loads(out) == {**lists, "error": {"code": code, "message": message}}, argv
        messages.append(message)
    return messages


def version(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                        .scalars())
    finally:
        engine.dispose()


# ------------------------------------------------------------ a database newer than the code

@pytest.mark.parametrize("argv", [["db", "upgrade"], *DATABASE_COMMANDS],
                         ids=lambda argv: " ".join(a for a in argv if not a.startswith("{")))
def test_a_database_newer_than_the_program_is_refused_by_every_command_upgrade_included(
        argv, folder, sqlite_url, monkeypatch, capsys):
    upgrade(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE})
    engine.dispose()
    monkeypatch.setenv("RMA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")  # serve: never reached

    status, out, message = run(capsys, argv, folder)
    assert status == 1
    assert out == ""
    assert message == (f"the claims database at {sqlite_url} is at revision {FUTURE}, newer "
                       f"than this program knows (latest {head_revision()}): upgrade the "
                       "program, not the database")
    assert version(sqlite_url) == [FUTURE]  # untouched, by `db upgrade` too
    assert (Path("inbox") / "D-001" / "waiting.csv").is_file()


def test_json_says_the_database_is_newer_on_both_databases(folder, db_url, monkeypatch,
                                                           capsys):
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE})
    engine.dispose()
    monkeypatch.setenv("RMA_DATABASE_URL", db_url)
    for message in check_json(capsys, folder, "DATABASE_TOO_NEW"):
        assert "newer than this program knows" in message
    status, _out, message = run(capsys, ["db", "upgrade"], folder)
    assert status == 1 and "upgrade the program, not the database" in message
    assert version(db_url) == [FUTURE]


# ------------------------------------------------------------ --json: always one document

def test_json_prints_one_document_when_postgresql_cannot_be_reached(folder, monkeypatch,
                                                                    capsys):
    url = "postgresql://postgres@127.0.0.1:1/rma"
    monkeypatch.setenv("RMA_DATABASE_URL", url)
    monkeypatch.setenv("RMA_DB_CONNECT_TIMEOUT", "2")
    for message in check_json(capsys, folder, "DATABASE_UNAVAILABLE"):
        assert message.startswith("the claims database at postgresql+psycopg://postgres@"
                                  "127.0.0.1:1/rma cannot be reached: ")
    status, out, message = run(capsys, ["db", "upgrade"], folder)
    assert status == 1 and out == "" and "cannot be reached" in message


def test_json_prints_one_document_when_the_database_is_not_migrated(folder, tmp_path,
                                                                    monkeypatch, capsys):
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()  # a file without tables
    assert empty.is_file()
    monkeypatch.setenv("RMA_DATABASE_URL", f"sqlite:///{empty}")
    for message in check_json(capsys, folder, "DATABASE_NOT_READY"):
        assert message.endswith("has no tables yet; run `rma db upgrade`")


def test_json_prints_one_document_for_a_configuration_error_with_exit_status_2(
        folder, sqlite_url, monkeypatch, capsys):
    upgrade(sqlite_url)
    monkeypatch.setenv("RMA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RMA_LOCKOUT_ATTEMPTS", "five")
    for message in check_json(capsys, folder, "CONFIG_ERROR", status=2):
        assert message == "RMA_LOCKOUT_ATTEMPTS must be a whole number, got 'five'"


def test_json_prints_one_document_for_wrong_usage(capsys):
    capsys.readouterr()
    assert main(["status", "--json", "--limit", "many"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("usage: rma status") and "invalid int value: 'many'" in err
    assert json.loads(out)["error"] == {
        "code": "USAGE", "message": "rma status: argument --limit: invalid int value: 'many'"}
    assert json.loads(out)["runs"] == []


def _hold_inbox(url: str, inbox: str, ready, release) -> None:
    from rma.adapters.runlock import inbox_lock

    with inbox_lock(make_engine(url), Path(inbox)):
        ready.set()
        release.wait(60)


@pytest.mark.prefect
def test_json_prints_one_document_when_another_run_holds_the_inbox(cli, workdir, db_url):
    inbox = workdir / "inbox"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_inbox, args=(db_url, str(inbox), ready, release))
    holder.start()
    try:
        assert ready.wait(60), "the lock holder did not start"
        busy = cli("run-inbox", "--json")
    finally:
        release.set()
        holder.join(30)
    assert busy.code == 1
    [line] = busy.err.strip().splitlines()
    error = busy.json()["error"]
    assert error["code"] == "RUN_BUSY" and f"rma: {error['message']}" == line
    assert "another run is processing the inbox" in line
    assert busy.json()["batches"] == []


# ------------------------------------------------------------ no file made by a typo

@pytest.mark.parametrize("url", ["sqlite:///typo/rma.db", "sqlite:///nonexistent.db"])
@pytest.mark.parametrize("argv", DATABASE_COMMANDS,
                         ids=lambda argv: " ".join(a for a in argv if not a.startswith("{")))
def test_a_command_creates_no_database_file_at_a_mistyped_url(argv, url, folder, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.setenv("RMA_DATABASE_URL", url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")  # serve: never reached
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    status, out, message = run(capsys, argv, folder)
    assert status == 1 and out == ""
    path = tmp_path / sa.make_url(url).database
    assert message == (f"no claims database at {path}; run `rma db upgrade` first (or correct "
                       "RMA_DATABASE_URL)")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_json_says_there_is_no_database_file(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RMA_DATABASE_URL", "sqlite:///nonexistent.db")
    check_json(capsys, folder, "DATABASE_MISSING")
    assert not (tmp_path / "nonexistent.db").exists()


def test_only_db_upgrade_creates_the_file_and_not_in_a_folder_that_is_not_there(
        folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RMA_DATABASE_URL", "sqlite:///typo/rma.db")
    status, _out, message = run(capsys, ["db", "upgrade"], folder)
    assert status == 2
    assert message == (f"cannot create the claims database {tmp_path / 'typo' / 'rma.db'}: "
                       f"the folder {tmp_path / 'typo'} does not exist (check "
                       "RMA_DATABASE_URL)")
    assert not (tmp_path / "typo").exists()

    monkeypatch.setenv("RMA_DATABASE_URL", "sqlite:///nonexistent.db")
    capsys.readouterr()
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "nonexistent.db").is_file()
    assert version("sqlite:///nonexistent.db") == [head_revision()]
    assert main(["status"]) == 0


def test_an_engine_does_not_create_the_file_even_when_asked_directly(tmp_path):
    url = f"sqlite:///{tmp_path / 'never.db'}"
    engine = make_engine(url)
    from rma.errors import DatabaseMissing

    with pytest.raises(DatabaseMissing, match="no claims database at"):
        engine.connect()
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ codes for inactive accounts

@pytest.mark.parametrize("account", ["X-OFF", "NOBODY"])
def test_codes_issue_refuses_an_inactive_or_unknown_account(account, workdir, db_url, capsys):
    capsys.readouterr()
    status = main(["codes", "issue", "--account", account])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    [line] = err.strip().splitlines()
    what = "is not active" if account == "X-OFF" else "unknown account"
    assert line.startswith("rma: ") and what in line and "no RMA code issued" in line
    engine = make_engine(db_url)
    with engine.connect() as conn:
        issued = conn.execute(sa.select(sa.func.count()).select_from(rma_codes)
                              .where(rma_codes.c.account_id == account)).scalar_one()
    engine.dispose()
    assert issued == 0
