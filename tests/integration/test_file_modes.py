"""Reports and the template get the mode the deployment's umask asks for, as a plain open()
would make them (not tempfile's 0600), and importing the package changes no process state."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rma.adapters.reports import write_reports
from rma.adapters.reports.template import write_template
from tests.integration.test_reports import _report


@pytest.fixture(params=[0o022, 0o027, 0o077])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reports_and_the_template_follow_the_umask(tmp_path, umask):
    paths = write_reports(_report(), tmp_path, "march")
    template = write_template(tmp_path / "claims-template.xlsx")
    for path in [*paths.values(), template]:
        assert _mode(path) == 0o666 & ~umask, path
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_importing_the_application_leaves_the_umask_and_sys_modules_alone():
    code = ("import os, sys; os.umask(0o077); "
            "import rma.adapters.reports, schemas.claims, flows.ingest; "
            "print(oct(os.umask(0)), 'geopandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0o77", "False"]
