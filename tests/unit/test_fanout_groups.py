"""rma.service.fanout.group_files: the night's files in groups for the work pool's child runs, so a
child's start-up cost is paid per group, never per file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rma.adapters.inbox.folders import WaitingFile
from rma.service.fanout import group_files, group_indices

MB = 1024 * 1024


def _files(spec: list[tuple[str, int]]) -> tuple[list[WaitingFile], dict[Path, int]]:
    """(account, size) pairs -> waiting files in that order, and their sizes."""
    files = [WaitingFile(Path(f"/inbox/{acct}/f{n:03d}.csv"), acct)
             for n, (acct, _) in enumerate(spec)]
    return files, {f.path: size for f, (_, size) in zip(files, spec, strict=True)}


def _names(groups: list[list[WaitingFile]]) -> list[list[str]]:
    return [[f"{w.account_id}/{w.path.name}" for w in g] for g in groups]


def test_small_account_folders_share_a_group_and_are_never_split():
    files, sizes = _files([("A", MB)] * 2 + [("B", MB)] * 3 + [("C", MB)] * 4)
    groups = group_files(files, sizes, target_files=6, target_bytes=100 * MB)
    # A and B fit together; C would overflow that group, so it starts the next one whole
    assert [[w.account_id for w in g] for g in groups] == [["A", "A", "B", "B", "B"],
                                                           ["C", "C", "C", "C"]]


def test_an_account_too_big_for_one_group_is_split_into_consecutive_groups():
    files, sizes = _files([("A", MB)] * 1 + [("BIG", MB)] * 7 + [("C", MB)] * 1)
    groups = group_files(files, sizes, target_files=3, target_bytes=100 * MB)
    assert [len(g) for g in groups] == [1, 3, 3, 2]
    assert [w.account_id for w in groups[-1]] == ["BIG", "C"]


def test_groups_are_bounded_by_bytes_and_a_file_larger_than_the_target_goes_alone():
    files, sizes = _files([("A", 30 * MB), ("A", 30 * MB), ("A", 30 * MB),
                           ("A", 500 * MB), ("A", 10 * MB)])
    groups = group_files(files, sizes, target_files=100, target_bytes=64 * MB)
    assert [[sizes[w.path] // MB for w in g] for g in groups] == [[30, 30], [30], [500],
                                                                  [10]]


def test_no_files_no_groups_and_targets_below_one_are_refused():
    assert group_files([], {}, target_files=5, target_bytes=MB) == []
    files, sizes = _files([("A", 1)])
    with pytest.raises(ValueError):
        group_files(files, sizes, target_files=0, target_bytes=MB)
    with pytest.raises(ValueError):
        group_files(files, sizes, target_files=1, target_bytes=0)


def test_the_nights_25_files_at_7_per_group_make_4_groups():
    """The shape the ops tier's work-pool test relies on (11 + 8 + 6 files)."""
    files, sizes = _files([("D-001", 2000)] * 11 + [("D-002", 2000)] * 8
                          + [("I-GOLD", 2000)] * 6)
    groups = group_files(files, sizes, target_files=7, target_bytes=64 * MB)
    assert [len(g) for g in groups] == [7, 4, 7, 7]
    assert {w.account_id for w in groups[-1]} == {"D-002", "I-GOLD"}


_accounts = st.lists(st.tuples(st.sampled_from("ABCDEFG"),
                               st.lists(st.integers(0, 20 * MB), min_size=1, max_size=12)),
                     max_size=8)


# no deadline: on a loaded shared machine one example may take over Hypothesis's 200 ms
@settings(deadline=None)
@given(_accounts, st.integers(1, 10), st.integers(1, 60 * MB))
def test_every_file_lands_in_exactly_one_group_in_order_within_the_targets(
        accounts, target_files, target_bytes):
    spec = [(acct, size) for n, (acct, sizes) in enumerate(accounts)
            for size in sizes for acct in [f"{acct}{n}"]]  # folders are distinct
    files, sizes = _files(spec)
    groups = group_files(files, sizes, target_files=target_files, target_bytes=target_bytes)
    assert [w for g in groups for w in g] == files               # all, once, in order
    assert all(g for g in groups)
    for g in groups:
        assert len(g) <= target_files
        assert len(g) == 1 or sum(sizes[w.path] for w in g) <= target_bytes
    for acct in {w.account_id for w in files}:                   # a folder that fits in a
        mine = [w for w in files if w.account_id == acct]        # group is never split
        if len(mine) <= target_files and sum(sizes[w.path] for w in mine) <= target_bytes:
            assert sum(any(w.account_id == acct for w in g) for g in groups) == 1


def test_positions_are_grouped_like_files_even_when_one_file_is_named_twice():
    accounts = ["D-1", "D-1", "D-2", "D-2", "D-2", None, None]
    sizes = [10, 10, 10, 10, 10, 10, 5000]
    assert group_indices(accounts, sizes, target_files=3, target_bytes=1000) == [
        [0, 1], [2, 3, 4], [5], [6]]
    assert group_indices(["D-1"] * 4, [1] * 4, target_files=2, target_bytes=10) == [
        [0, 1], [2, 3]]
    assert group_indices([], [], target_files=2, target_bytes=10) == []
