"""A file's name is text from the submitter: on the plain console (the progress lines, the
result lines and the closing lines of `rma ingest` / `rma run-inbox`, `rma status`) its line
breaks and other control characters are shown escaped, so that a name cannot forge a line,
overwrite one (CR, ESC) or break one in a viewer (U+2028); --json keeps the real name."""

from __future__ import annotations

import pytest

from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.results import BatchResult
from rma.service.runlog import batch_line
from tests.factories import valid_claim, write_csv

pytestmark = [pytest.mark.prefect,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

FORGED = "[9/9] D-001/x.csv: accepted"
#: a sub-folder gives the slash a single file name cannot hold (rma ingest takes a folder's
#: files at any depth)
FORGING_PATH = "a\n[9/9] D-001/x.csv: accepted.csv"
#: in a drop folder (one name: U+2215 looks like the slash it cannot hold), one name each with
#: the other characters that break or rewrite a line
LOOKALIKE = "[9\u22159]"
DROP_NAMES = [f"a\n{LOOKALIKE} x.csv: accepted.csv", f"b\r{LOOKALIKE} x.csv: accepted.csv",
              f"c\x1b[2K\x1b[1A{LOOKALIKE} x.csv.csv", f"d\u2028{LOOKALIKE} x.csv.csv",
              f"e\x85{LOOKALIKE} x.csv.csv", f"f\u2029\t\x7f{LOOKALIKE} x.csv.csv"]


def _assert_escaped(text: str, forged: str) -> None:
    for line in text.splitlines():
        assert not line.startswith(forged[:5]), (line, text)
    assert not any(ch in text.replace("\n", "") for ch in "\r\x1b\u2028\u2029\x85\x7f\t"), text


def test_a_name_with_a_line_break_cannot_forge_a_line_of_rma_ingest(cli, workdir,
                                                                     monkeypatch):
    monkeypatch.setenv("RMA_PROGRESS", "plain")
    path = workdir / "in" / FORGING_PATH
    path.parent.mkdir(parents=True)
    write_csv(path, [valid_claim()])
    run = cli("ingest", str(workdir / "in"), "--account", "D-001")
    assert run.code == 0, run.err
    # one progress line on stderr; one result line and the closing line on stdout
    assert len(run.err.splitlines()) == 1 and run.err.startswith("[1/1] "), run.err
    assert len(run.out.splitlines()) == 2, run.out
    assert "a\\n[9/9] D-001/x.csv: accepted.csv" in run.err
    assert "a\\n[9/9] D-001/x.csv: accepted.csv" in run.out
    _assert_escaped(run.out + run.err, FORGED)
    # --json: the real name (JSON escapes it)
    again = cli("ingest", str(path), "--account", "D-001", "--json")
    assert again.json()["batches"][0]["source"] == str(path)


def test_names_that_break_or_rewrite_lines_are_escaped_on_the_run_inbox_console(
        cli, workdir, monkeypatch):
    monkeypatch.setenv("RMA_PROGRESS", "plain")
    folder = workdir / "inbox" / "D-001"
    folder.mkdir(parents=True)
    for name in DROP_NAMES:
        write_csv(folder / name, [valid_claim()])
    run = cli("run-inbox")
    assert run.code == 0, run.err
    n = len(DROP_NAMES)
    assert len(run.err.splitlines()) == n, run.err  # [1/6] ... [6/6]
    assert len(run.out.splitlines()) == n + 1, run.out  # a line per batch, the closing line
    for name in DROP_NAMES:
        assert shown(name) in run.err and shown(name) in run.out, (shown(name), run.out)
    _assert_escaped(run.out + run.err, LOOKALIKE)


def test_status_and_the_batch_log_line_escape_the_names_too(cli, workdir):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir(parents=True)
    (folder / f"ghost\n{LOOKALIKE} x.csv").mkdir()  # a folder: refused, shown by rma status
    status = cli("status")
    assert f"ghost\\n{LOOKALIKE} x.csv" in status.out, status.out
    _assert_escaped(status.out, LOOKALIKE)
    for name in DROP_NAMES:
        line = batch_line(BatchResult(source=name, status="posted"), 0.1)
        assert len(line.splitlines()) == 1 and shown(name) in line, line
        _assert_escaped(line, LOOKALIKE)
        assert BatchResult(source=name, status="posted").line().startswith(shown(name))
