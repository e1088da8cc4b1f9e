"""`rma template PATH` writes only a new .xlsx into a folder that exists: a path ending in
something else, a missing folder, a link and an existing file (without --force) are refused
in one line with exit 2, and nothing is created, replaced or written through."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from rma.entrypoints.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["template", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _refused(result: tuple[int, str, str], *words: str) -> None:
    code, out, err = result
    assert code == 2 and out == "", result
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert all(w in err for w in words), err


def _tree(folder: Path) -> dict[str, bytes | str]:
    return {str(p.relative_to(folder)): (str(p.readlink()) if p.is_symlink() else
                                         p.read_bytes() if p.is_file() else "dir")
            for p in folder.rglob("*")}


@pytest.mark.parametrize("name", ["x.csv", "claims", "claims.xlsx.txt", "claims.xls"])
def test_a_path_that_is_not_an_xlsx_is_refused(capsys, tmp_path, name):
    _refused(_run(capsys, str(tmp_path / name)), name, ".xlsx")
    assert not any(tmp_path.iterdir())


def test_a_missing_folder_is_refused_and_not_created(capsys, tmp_path):
    _refused(_run(capsys, str(tmp_path / "typo" / "deep" / "t.xlsx")), "does not exist")
    assert not (tmp_path / "typo").exists()


def test_a_link_at_the_path_is_never_followed_even_with_force(capsys, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "t.xlsx").symlink_to(victim)
    (tmp_path / "dangling.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    before = _tree(tmp_path)
    for name in ("t.xlsx", "dangling.xlsx"):
        for extra in ([], ["--force"]):
            _refused(_run(capsys, str(tmp_path / name), *extra), "symbolic link")
    assert _tree(tmp_path) == before


def test_an_existing_file_is_replaced_only_with_force(capsys, tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"mine")
    _refused(_run(capsys, str(path)), "exists", "--force")
    assert path.read_bytes() == b"mine"
    code, out, _ = _run(capsys, str(path), "--force")
    assert code == 0 and str(path) in out
    assert openpyxl.load_workbook(path).sheetnames[0] == "Claims"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]  # no temporary left


def test_a_new_file_in_an_existing_folder_is_written(capsys, tmp_path):
    code, out, _ = _run(capsys, str(tmp_path / "Claims.XLSX"))
    assert code == 0 and out.strip().endswith("Claims.XLSX")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Claims.XLSX"]
