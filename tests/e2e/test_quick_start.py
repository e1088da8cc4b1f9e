"""The README's Quick start, as a new user runs it: both commands, in order, in a clean clone,
then the first again. The clone's virtual environment is seeded with a copy of this one so that
pip finds everything installed (the commands themselves run exactly as the README writes them;
only the second one's test run is narrowed to a fast tier)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = "3 batch(es): 5 claims accepted, 7 rejected, 0 batch(es) failed."

pytestmark = pytest.mark.prefect


def readme_commands() -> list[str]:
    """The command lines of the Quick start's code block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no Quick start code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def seed_venv(clone: Path) -> None:
    """A copy of the running virtual environment, its scripts pointed at the copy."""
    target = clone / ".venv"
    shutil.copytree(sys.prefix, target, symlinks=True)
    for script in (target / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            head = script.read_bytes()[:200]
            if head.startswith(b"#!") and sys.prefix.encode() in head.split(b"\n", 1)[0]:
                script.write_bytes(script.read_bytes().replace(sys.prefix.encode(),
                                                               str(target).encode(), 1))
    for name in ("pyvenv.cfg",):
        cfg = target / name
        cfg.write_text(cfg.read_text().replace(sys.prefix, str(target)))


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_readme_quick_start_runs_in_a_clean_clone_in_order_and_again(
        prefect_api, tmp_path):
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    first, second = readme_commands()
    assert first.endswith("rma demo") and " -m pytest -q" in second
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    seed_venv(clone)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RMA_", "PYTEST_", "VIRTUAL_ENV"))}
    env["PREFECT_API_URL"] = prefect_api  # the session's server: no temporary API to start

    demo = run(first, clone, env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert SUMMARY in demo.stdout

    tests = run(f"{second} -x -p no:cacheprovider tests/unit", clone, env)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout

    again = run(first, clone, env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert SUMMARY in again.stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                            text=True, check=True)
    assert status.stdout == "", "the Quick start changed tracked files:\n" + status.stdout
