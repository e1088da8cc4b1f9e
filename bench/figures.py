"""What a target run records and how it is judged (``bench.targets``): the runs' figures,
each row's checks (ratios of medians), the tables printed at the end."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

RSS_LIMIT_BYTES = 1.5e9  # "peak RSS at most 1.5 GB", read as 10^9 bytes (the stricter one)
MIB = 1024 * 1024


@dataclass
class Measured:
    seconds: float  # wall time of the child process
    peak_mib: float  # its peak RSS
    cpu_seconds: float  # its user + system CPU time (less sensitive to a busy machine)
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run(Measured):
    side: str = ""  # "baseline" | "ours"
    index: int = 0
    load1: float = 0.0  # 1-minute load average when the run started


@dataclass
class Check:
    check: str
    baseline: str
    ours: str
    ratio: float | None
    target: str
    passed: bool
    margin: str
    cpu_ratio: float | None = None  # the same ratio over CPU seconds, for reference only


@dataclass
class Row:
    key: str
    work: str
    baseline_title: str
    ours_title: str
    target_title: str
    repeats: int
    baseline: Callable[[], Measured]
    ours: Callable[[], Measured]
    judge: Callable[[Row, list[Run], list[Run]], list[Check]]
    runs: list[Run] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("baseline", "ours", "judge")}



# ------------------------------------------------------------------------------- judging


def _median(runs: list[Run], attr: str = "seconds") -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def _margin(ratio: float, limit: float) -> str:
    if ratio <= limit:
        return f"{limit / ratio:.2f}x headroom"
    return f"{ratio / limit:.2f}x over"


def _n(runs: list[Run]) -> str:
    return f"n={len(runs)}"


def judge_time(limit: float, how: str) -> Callable[[Row, list[Run], list[Run]], list[Check]]:
    """ours median / baseline median <= limit."""

    def judge(row: Row, base: list[Run], ours: list[Run]) -> list[Check]:
        b, o = _median(base), _median(ours)
        ratio = o / b
        cpu = _median(ours, "cpu_seconds") / _median(base, "cpu_seconds")
        return [Check("time", f"{b:.2f} s ({_n(base)})", f"{o:.2f} s ({_n(ours)})", ratio,
                      f"<= {limit:g} ({how})", ratio <= limit, _margin(ratio, limit), cpu)]

    return judge


def judge_linear(small: int, big: int, limit: float
                 ) -> Callable[[Row, list[Run], list[Run]], list[Check]]:
    """Time per row of the big run <= limit x that of the small run; the big run's peak RSS
    (its highest run) <= RSS_LIMIT_BYTES."""

    def judge(row: Row, base: list[Run], ours: list[Run]) -> list[Check]:
        b, o = _median(base) / small * 1e6, _median(ours) / big * 1e6
        ratio = o / b
        cpu = (_median(ours, "cpu_seconds") / big) / (_median(base, "cpu_seconds") / small)
        peak = max(r.peak_mib for r in ours)
        limit_mib = RSS_LIMIT_BYTES / MIB
        return [
            Check("time/row", f"{b:.1f} µs/row ({_n(base)})", f"{o:.1f} µs/row ({_n(ours)})",
                  ratio, f"<= {limit:g} (linear)", ratio <= limit, _margin(ratio, limit), cpu),
            Check("peak RSS", f"{max(r.peak_mib for r in base):,.0f} MiB",
                  f"{peak:,.0f} MiB (max)", None, f"<= {limit_mib:,.0f} MiB (1.5 GB)",
                  peak <= limit_mib, _margin(peak, limit_mib)),
        ]

    return judge


def measure(row: Row) -> None:
    """baseline, ours, baseline, ours, ... ``row.repeats`` times each; then judge."""
    for i in range(1, row.repeats + 1):
        for side, fn in (("baseline", row.baseline), ("ours", row.ours)):
            load = os.getloadavg()[0]
            try:
                m = fn()
            except Exception as exc:  # a failed run ends its row, the others go on
                row.error = f"{side} run {i}: {exc}"
                print(f"  {row.key:<9} {side:<8} #{i}: ERROR {exc}", flush=True)
                return
            row.runs.append(Run(**asdict(m), side=side, index=i, load1=load))
            print(f"  {row.key:<9} {side:<8} #{i}: {m.seconds:8.2f} s  cpu {m.cpu_seconds:7.2f} s"
                  f"  peak {m.peak_mib:7,.0f} MiB  load {load:4.1f}  {m.note}", flush=True)
    base = [r for r in row.runs if r.side == "baseline"]
    ours = [r for r in row.runs if r.side == "ours"]
    row.checks = row.judge(row, base, ours)


# ------------------------------------------------------------------------------- output


def legend(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        lines.append(f"{row.key:<9} {row.work}")
        lines.append(f"{'':<9}   ours:     {row.ours_title}")
        lines.append(f"{'':<9}   baseline: {row.baseline_title}")
        lines.append(f"{'':<9}   target:   {row.target_title}")
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    head = (f"{'row':<9} {'check':<9} {'baseline (median)':<22} {'ours (median)':<22} "
            f"{'ratio':>6}  {'target':<26} {'result':<6} {'margin':<15} {'cpu ratio':>9}")
    lines = [head, "-" * len(head)]
    for row in rows:
        if row.error:
            lines.append(f"{row.key:<9} {'':<9} ERROR: {row.error[:200]}")
            continue
        for c in row.checks:
            ratio = f"{c.ratio:6.2f}" if c.ratio is not None else f"{'-':>6}"
            cpu = f"{c.cpu_ratio:9.2f}" if c.cpu_ratio is not None else f"{'-':>9}"
            lines.append(f"{row.key:<9} {c.check:<9} {c.baseline:<22} {c.ours:<22} {ratio}  "
                         f"{c.target:<26} {'PASS' if c.passed else 'FAIL':<6} {c.margin:<15} "
                         f"{cpu}")
    return "\n".join(lines)
