"""`rma --help` and a usage error answer without loading the heavy libraries: each command
imports what it needs when it runs (rma.entrypoints.commands), so the CLI starts quickly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: what a command loads when it runs, never before: each of these costs a noticeable pause
HEAVY = ("sqlalchemy", "prefect", "pandas", "numpy", "pandera", "openpyxl", "fastapi")

PROBE = """
import contextlib, io, json, sys
from rma.entrypoints.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.mark.parametrize("argv", [["--help"], ["ingest", "--help"], ["users", "--help"],
                                  ["no-such-command", "--json"]],
                         ids=["help", "ingest-help", "users-help", "usage-error"])
def test_the_cli_answers_help_and_usage_errors_without_loading_heavy_libraries(argv):
    probe = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                           text=True, cwd=ROOT, timeout=60)
    assert probe.returncode == 0, probe.stderr
    loaded = set(json.loads(probe.stdout.splitlines()[-1]))
    assert not loaded & set(HEAVY), f"loaded by `rma {' '.join(argv)}`: {loaded & set(HEAVY)}"
