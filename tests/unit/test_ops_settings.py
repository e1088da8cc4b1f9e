"""The operations settings: RMA_WORKERS, the schedule and time zone of the nightly
deployment, and the fan-out over a work pool (rma.config)."""

from __future__ import annotations

import pytest

from rma.config import load_settings
from rma.errors import ConfigError


def test_defaults_run_the_nightly_job_at_two_on_this_machine_four_files_at_a_time():
    s = load_settings({})
    assert (s.workers, s.schedule_cron, s.timezone) == (4, "0 2 * * *", "UTC")
    assert s.fanout_deployment is None
    assert (s.fanout_group_files, s.fanout_group_bytes) == (20, 64 * 1024 * 1024)


def test_the_operations_settings_are_read_from_the_environment():
    s = load_settings({"RMA_WORKERS": "8", "RMA_SCHEDULE_CRON": " 30 1 * * 1-5 ",
                       "RMA_TIMEZONE": "Europe/Berlin",
                       "RMA_FANOUT_DEPLOYMENT": "ingest-files/group",
                       "RMA_FANOUT_GROUP_FILES": "7", "RMA_FANOUT_GROUP_BYTES": "1000",
                       "RMA_FANOUT_TIMEOUT_SECONDS": "60"})
    assert (s.workers, s.schedule_cron, s.timezone) == (8, "30 1 * * 1-5", "Europe/Berlin")
    assert (s.fanout_deployment, s.fanout_group_files, s.fanout_group_bytes,
            s.fanout_timeout_seconds) == ("ingest-files/group", 7, 1000, 60)
    assert load_settings({"RMA_FANOUT_DEPLOYMENT": "  "}).fanout_deployment is None


@pytest.mark.parametrize("env, message", [
    ({"RMA_WORKERS": "0"}, "RMA_WORKERS must be at least 1"),
    ({"RMA_WORKERS": "many"}, "RMA_WORKERS must be a whole number"),
    ({"RMA_FANOUT_GROUP_FILES": "-1"}, "RMA_FANOUT_GROUP_FILES must be at least 1"),
    ({"RMA_TIMEZONE": "CEST"}, "RMA_TIMEZONE must be an IANA time zone"),
    ({"RMA_TIMEZONE": "../etc/passwd"}, "RMA_TIMEZONE must be an IANA time zone"),
    ({"RMA_SETTLE_SECONDS": "-1"}, "RMA_SETTLE_SECONDS must be 0 or more"),
    ({"RMA_SETTLE_SECONDS": "a minute"}, "RMA_SETTLE_SECONDS must be a whole number"),
    ({"RMA_REDELIVERY_DAYS": "-1"}, "RMA_REDELIVERY_DAYS must be 0 or more"),
    ({"RMA_REDELIVERY_DAYS": "a week"}, "RMA_REDELIVERY_DAYS must be a whole number"),
])
def test_wrong_operations_settings_are_configuration_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_large_files_are_chunked_by_default_only_when_a_dask_cluster_can_take_the_chunks():
    assert load_settings({}).chunk_rows == 0  # one machine: read whole (faster, smaller)
    assert load_settings({"RMA_DASK_ADDRESS": "tcp://dask:8786"}).chunk_rows == 100_000
    assert load_settings({"RMA_CHUNK_ROWS": "5000"}).chunk_rows == 5000  # asked for: chunked
    assert load_settings({"RMA_DASK_ADDRESS": "tcp://dask:8786",
                          "RMA_CHUNK_ROWS": "0"}).chunk_rows == 0


def test_groups_of_small_files_go_to_processes_only_when_there_are_enough_of_them():
    from flows.runners import PROCESS_MIN_FILES, group_processes

    auto = load_settings({})
    assert group_processes(auto, PROCESS_MIN_FILES - 1, 4, cpus=8) == 0  # not worth starting
    assert group_processes(auto, PROCESS_MIN_FILES, 12, cpus=2) == 2  # one per CPU
    assert group_processes(auto, 300, 12, cpus=8) == 4  # at most RMA_WORKERS
    assert group_processes(auto, 300, 3, cpus=8) == 3  # at most one per group
    assert group_processes(auto, 300, 12, cpus=1) == 0  # one process is none
    assert group_processes(load_settings({"RMA_PROCESSES": "0"}), 300, 12, cpus=8) == 0
    assert group_processes(load_settings({"RMA_PROCESSES": "3"}), 10, 5, cpus=1) == 3
    with pytest.raises(ConfigError, match="RMA_PROCESSES"):
        load_settings({"RMA_PROCESSES": "-1"})
    with pytest.raises(ConfigError, match="RMA_PROCESSES"):
        load_settings({"RMA_PROCESSES": "many"})


def test_a_drop_folder_file_settles_for_a_minute_unless_configured():
    assert load_settings({}).settle_seconds == 60
    assert load_settings({"RMA_SETTLE_SECONDS": "0"}).settle_seconds == 0


def test_a_re_delivery_is_recognised_for_a_week_unless_configured():
    assert load_settings({}).redelivery_days == 7
    assert load_settings({"RMA_REDELIVERY_DAYS": "0"}).redelivery_days == 0
    assert load_settings({"RMA_REDELIVERY_DAYS": " 30 "}).redelivery_days == 30
