"""Spreading a night's files over several machines: which files go together, and what became
of them. No Prefect here (``flows/fanout.py`` starts and waits for the runs).

A child run pays a start-up cost (a worker polls, starts a process, imports pandas, pandera
and Prefect: seconds, not milliseconds), so files travel in groups, never one run per file.
The claims database is the record of what was posted: the parent run summarises from it and
from the child runs' final states, never from results a child kept on its own machine.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.batches import batch_details, batches_by_sha
from rma.adapters.inbox.folders import WaitingFile
from rma.adapters.names import bounded_name
from rma.adapters.reports import REPORT_SUFFIXES, report_stem
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.results import BatchResult
from rma.service.batch import file_sha256
from rma.service.lookup import posted_result
from rma.service.outcome import duplicate_result

#: children may write on another machine whose clock runs a little behind the parent's
CLOCK_SKEW_SECONDS = 300


def group_files(waiting: Sequence[WaitingFile], sizes: Mapping[Path, int], *,
                target_files: int, target_bytes: int) -> list[list[WaitingFile]]:
    """Consecutive groups of at most ``target_files`` files and ``target_bytes`` bytes (a file
    larger than that goes alone), in the order given. An account folder's files stay in one
    group when they fit in one: a group that cannot take a whole account is closed first, so
    only an account too big for any group is split; small accounts share a group."""
    groups = group_indices([w.account_id for w in waiting],
                           [sizes.get(w.path, 0) for w in waiting],
                           target_files=target_files, target_bytes=target_bytes)
    return [[waiting[i] for i in group] for group in groups]


def group_indices(accounts: Sequence[str | None], sizes: Sequence[int], *,
                  target_files: int, target_bytes: int) -> list[list[int]]:
    """``group_files`` over positions: ``accounts[i]`` and ``sizes[i]`` describe file ``i``."""
    if target_files < 1 or target_bytes < 1:
        raise ValueError("group targets must be at least 1")
    groups: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0

    def close() -> None:
        nonlocal current, current_bytes
        if current:
            groups.append(current)
        current, current_bytes = [], 0

    for _, run in groupby(range(len(accounts)), key=lambda i: accounts[i]):
        files = list(run)
        account_bytes = sum(sizes[i] for i in files)
        if (len(current) + len(files) > target_files
                or current_bytes + account_bytes > target_bytes):
            close()
        for i in files:
            if current and (len(current) >= target_files
                            or current_bytes + sizes[i] > target_bytes):
                close()
            current.append(i)
            current_bytes += sizes[i]
    close()
    return groups


@dataclass(frozen=True)
class Dispatched:
    """A waiting file as the parent saw it before handing it to a child run."""

    item: WaitingFile
    size: int
    sha256: str | None
    #: the batch this content was posted as before the run started (it will be a duplicate)
    earlier_batch: str | None

    @property
    def source(self) -> str:
        return str(self.item.path)


def dispatch_plan(waiting: Sequence[WaitingFile], engine: sa.Engine) -> list[Dispatched]:
    """Size and SHA-256 of every waiting file (absolute paths: the children run elsewhere),
    and which contents were already posted before this run."""
    sized: list[tuple[WaitingFile, int, str | None]] = []
    for w in waiting:
        item = WaitingFile(w.path.resolve(), w.account_id)
        try:
            sized.append((item, item.path.stat().st_size, file_sha256(item.path)))
        except OSError:  # gone or unreadable: the child reports it as it would locally
            sized.append((item, 0, None))
    earlier = batches_by_sha(engine, [sha for _, _, sha in sized if sha])
    return [Dispatched(item, size, sha, earlier.get(sha, {}).get("batch_id") if sha else None)
            for item, size, sha in sized]


def settled_results(engine: sa.Engine, plan: Sequence[Dispatched],
                    run_failures: Mapping[Path, str | None], reports_dir: Path,
                    quarantine_root: Path, since: dt.datetime) -> list[BatchResult]:
    """What became of each dispatched file, in plan order, from the claims database (posted
    or duplicate), the quarantine notes the children wrote, and ``run_failures`` (the file's
    child run did not complete: why, or None when it completed)."""
    batches = batches_by_sha(engine, [d.sha256 for d in plan if d.sha256])
    found = [batches.get(d.sha256) if d.sha256 else None for d in plan]
    # posted tonight from this very file (not before the run, not from a copy of it)
    posted = [b is not None and d.earlier_batch is None and b["source"] == d.source
              for d, b in zip(plan, found, strict=True)]
    details = batch_details(engine, [b["batch_id"] for b, p in zip(found, posted, strict=True)
                                     if p and b is not None])
    results = []
    for d, batch, is_posted in zip(plan, found, posted, strict=True):
        if batch is not None and is_posted:
            results.append(_posted(d, batch, details[batch["batch_id"]], reports_dir))
        elif batch is not None:  # posted before, or the same content as another file tonight
            results.append(duplicate_result(d.source, d.item.account_id, batch["batch_id"]))
        else:
            results.append(_not_posted(d, run_failures.get(d.item.path), quarantine_root,
                                       since))
    return results


def _posted(d: Dispatched, batch: dict[str, Any], detail: tuple[list[str], list[dict[str, Any]]],
            reports_dir: Path) -> BatchResult:
    claim_ids, issues = detail
    stem = report_stem(d.item.path.stem, d.sha256 or "")
    reports = {kind: str(reports_dir / f"{stem}{suffix}")
               for kind, suffix in REPORT_SUFFIXES.items()
               if (reports_dir / f"{stem}{suffix}").is_file()}
    return posted_result({**batch, "source": d.source}, claim_ids, issues, reports)


def _not_posted(d: Dispatched, run_failure: str | None, quarantine_root: Path,
                since: dt.datetime) -> BatchResult:
    note = quarantine_note(d.item, quarantine_root, since)
    if note is not None:
        code, _, message = note.partition(": ")
        return BatchResult.failed(d.source, code, message, d.item.account_id)
    where = "stays waiting" if d.item.path.exists() else "is no longer in the inbox"
    why = run_failure or "its run completed without posting it"
    return BatchResult.failed(
        d.source, str(Reason.PROCESSING_ERROR),
        f"{d.item.path.name}: could not be processed ({why}); the file {where} and the next "
        "run tries again.", d.item.account_id)


def quarantine_note(item: WaitingFile, quarantine_root: Path, since: dt.datetime
                    ) -> str | None:
    """The ``CODE: message`` a child wrote beside the file it quarantined during this run
    (``<name>.error.txt``, or ``<stem>.N<suffix>.error.txt`` when the name was taken)."""
    folder = quarantine_root / item.account_id
    if not folder.is_dir():
        return None
    suffix = item.path.suffix
    stem = bounded_name(item.path.stem, suffix).removesuffix(suffix)  # as free_name made it
    name = re.compile(re.escape(stem) + r"(\.\d+)?" + re.escape(suffix) + r"\.error\.txt")
    cutoff = since.timestamp() - CLOCK_SKEW_SECONDS
    notes = [p for p in folder.iterdir()
             if name.fullmatch(p.name) and p.stat().st_mtime >= cutoff]
    if not notes:
        return None
    newest = max(notes, key=lambda p: p.stat().st_mtime)
    return newest.read_text(encoding="utf-8").strip()
