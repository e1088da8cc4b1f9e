"""The ingest flows' task runner (flows.runners.FilePoolTaskRunner): at most RMA_WORKERS
files at once in a flow run, the bound read when the run starts; Prefect's own default
thread pool would be unbounded."""

from __future__ import annotations

import threading
import time

import pytest
from prefect import flow, task

import flows.ingest as flows_module
from flows.runners import FilePoolTaskRunner

pytestmark = pytest.mark.prefect


class _Gauge:
    def __init__(self) -> None:
        self.lock, self.now, self.peak = threading.Lock(), 0, 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


GAUGE = _Gauge()


@task
def _one_file(n: int) -> int:
    with GAUGE:
        time.sleep(0.3)
    return n


@flow(task_runner=FilePoolTaskRunner())
def _night(n: int) -> list[int]:
    return [f.result() for f in _one_file.map(list(range(n)))]


def test_the_ingest_flows_run_on_the_bounded_file_pool():
    assert isinstance(flows_module.run_inbox.task_runner, FilePoolTaskRunner)
    assert isinstance(flows_module.ingest_many.task_runner, FilePoolTaskRunner)


def test_at_most_rma_workers_files_run_at_once_read_when_the_run_starts(
        prefect_api, monkeypatch):
    monkeypatch.setenv("RMA_WORKERS", "2")  # after the flow was defined: read per run
    GAUGE.peak = 0
    assert _night(6) == list(range(6))
    assert GAUGE.peak == 2
    monkeypatch.setenv("RMA_WORKERS", "3")
    GAUGE.peak = 0
    assert _night(6) == list(range(6))
    assert GAUGE.peak == 3
