"""One nightly run (`rma run-inbox`, SPEC §8) over a drop folder holding many hostile files and
two good ones: the good files are posted and archived, every hostile file is quarantined with
a one-line .error.txt, the run exits 1, and no traceback or secret reaches the user."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import today
from tests.factories import valid_claim, write_csv, write_xlsx
from tests.hostile import builders as b

pytestmark = pytest.mark.prefect


def _hostile_files(folder: Path, secret: Path, bomb: Path) -> dict[str, str]:
    """Writes the hostile files into ``folder``; returns file name -> expected error code."""
    laughs, laugh = b.billion_laughs()
    xxe, reference = b.external_entity(secret)
    far = b.sheet_xml([b.row(1, b.HEADER), b.row(2, b.CLAIM),
                       f'<row r="1048576">{b.cell("XFD1048576", "x")}</row>'])
    names = b.workbook_parts([("PLACEHOLDER", b.sheet_xml([b.row(1, ["notes"])]))])
    names["xl/workbook.xml"] = names["xl/workbook.xml"].replace(
        b'"PLACEHOLDER"', b'"../../x&#10;Injected line"')
    wide = list(b.HEADER) + [f"Extra {i}" for i in range(20_000 - len(b.HEADER))]
    makers: dict[str, tuple[Callable[[Path], object], str]] = {
        "laughs.xlsx": (lambda p: b.write_workbook(
            p, [("Claims", b.sheet_with_entity(laughs, laugh))]), "UNREADABLE_FILE"),
        "xxe.xlsx": (lambda p: b.write_workbook(
            p, [("Claims", b.sheet_with_entity(xxe, reference))]), "UNREADABLE_FILE"),
        "bomb.xlsx": (lambda p: shutil.copyfile(bomb, p), "TOO_LARGE"),
        "sparse.xlsx": (lambda p: b.write_workbook(p, [("Claims", far)]), "TOO_LARGE"),
        "invoice.xlsx": (lambda p: p.write_bytes(b"%PDF-1.7\n1 0 obj"), "UNREADABLE_FILE"),
        "renamed.csv": (lambda p: p.write_bytes(
            write_xlsx(folder.parent / "real.xlsx", [valid_claim()]).read_bytes()),
            "UNREADABLE_FILE"),
        "empty.csv": (lambda p: p.write_bytes(b""), "EMPTY_BATCH"),
        "header.xlsx": (lambda p: b.write_workbook(
            p, [("Claims", b.sheet_xml([b.row(1, b.HEADER)]))]), "EMPTY_BATCH"),
        "nul.csv": (lambda p: p.write_bytes(b"Serial number,Fault\x00" * 50_000),
                    "UNREADABLE_FILE"),
        "wide.csv": (lambda p: write_csv(p, [list(b.CLAIM) + ["x"] * (len(wide) - 4)],
                                         headers=wide), "TOO_LARGE"),
        "long.xlsx": (lambda p: b.write_workbook(p, [("Claims", b.sheet_xml([
            b.row(1, b.HEADER), b.row(2, [b.CLAIM[0], "dead " * 8000, *b.CLAIM[2:]])]))]),
            "TOO_LARGE"),
        "latin.csv": (lambda p: p.write_bytes(b"Serial number,Fault\r\nSN100001,\x81\x8d\r\n"),
                      "UNREADABLE_FILE"),
        "names.xlsx": (lambda p: b.write_zip(p, names), "NO_HEADER"),
    }
    for name, (make, _) in makers.items():
        make(folder / name)
    return {name: code for name, (_, code) in makers.items()}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the files are what is hostile
def test_a_run_over_hostile_files_posts_the_good_ones_and_quarantines_the_rest(
        cli, workdir, bombs):
    site = workdir / "site"
    drop = site / "inbox" / "D-001"
    drop.mkdir(parents=True)
    secret = workdir / "secret.txt"
    secret.write_text(b.SECRET_FILE_TEXT, encoding="utf-8")
    expected = _hostile_files(drop, secret, bombs("liar"))
    write_csv(drop / "good.csv", [valid_claim(), valid_claim()])
    write_xlsx(drop / "good.xlsx", [valid_claim(), valid_claim()])

    run = cli("run-inbox", "--inbox", str(site / "inbox"), "--json")
    assert run.code == 1, run.err  # some batches could not be processed
    assert "Traceback" not in run.out + run.err
    got = {Path(batch["source"]).name: batch for batch in run.json()["batches"]}
    assert set(got) == {*expected, "good.csv", "good.xlsx"}
    for name in ("good.csv", "good.xlsx"):
        assert (got[name]["status"], got[name]["claims_accepted"]) == ("posted", 2), got[name]
    for name, code in expected.items():
        batch = got[name]
        assert (batch["status"], batch["error"]["code"]) == ("failed", code), batch
        assert name in batch["error"]["message"] and "\n" not in batch["error"]["message"]

    day = today().isoformat()
    archived = {p.name for p in (site / "archive" / day / "D-001").iterdir()}
    assert archived == {"good.csv", "good.xlsx"}
    quarantined = site / "quarantine" / "D-001"
    assert {p.name for p in quarantined.iterdir()} == {
        *expected, *(f"{name}.error.txt" for name in expected)}
    for name, code in expected.items():
        note = (quarantined / f"{name}.error.txt").read_text(encoding="utf-8")
        assert note.startswith(f"{code}: {name}") and note.count("\n") == 1, note
    assert not any(drop.iterdir())
    claims = json.loads(cli("claims", "list", "--json").out)["claims"]
    assert len(claims) == 4

    # the local file the XXE workbook names was never read into anything the run produced
    assert b.SECRET_FILE_TEXT not in run.out + run.err
    for written in workdir.rglob("*"):
        if written.is_file() and written != secret:
            assert b.SECRET_FILE_TEXT.encode() not in written.read_bytes(), written
