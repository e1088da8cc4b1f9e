"""What `rma status` shows operations: the last runs (claims database), what waits in the
inbox, and what sits in quarantine with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma import inbox as drop
from rma.db.runs import last_runs

ERROR_NOTE = ".error.txt"


def quarantined(root: Path) -> list[dict[str, str]]:
    """Every quarantined file with the first line of its ``.error.txt``."""
    if not root.is_dir():
        return []
    items = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()
                       and not p.name.endswith(ERROR_NOTE)):
        note = path.with_name(path.name + ERROR_NOTE)
        reason = note.read_text(encoding="utf-8", errors="replace").splitlines()[:1] \
            if note.exists() else []
        items.append({"path": str(path), "reason": reason[0] if reason else ""})
    return items


def gather(engine: sa.Engine, inbox: Path, quarantine_root: Path, limit: int = 10
           ) -> dict[str, Any]:
    runs = last_runs(engine, limit)
    for run in runs:
        for key in ("started_at", "finished_at"):
            run[key] = run[key].isoformat() if run[key] else None
    return {
        "runs": runs,
        "waiting": {"files": [w.source for w in drop.waiting_files(inbox)],
                    "mail": [m.source for m in drop.waiting_mail(inbox)]},
        "quarantined": quarantined(quarantine_root),
    }


def render(status: dict[str, Any]) -> list[str]:
    lines = ["Last runs:" if status["runs"] else "No runs yet."]
    for r in status["runs"]:
        ended = r["finished_at"] or "-"
        lines.append(f"  {r['run_id']}  {r['status']:<11} {r['started_at']} -> {ended}  "
                     f"files {r['files']}, posted {r['batches_posted']}, failed "
                     f"{r['batches_failed']}, claims {r['claims_accepted']} accepted / "
                     f"{r['claims_rejected']} rejected  ({r['host']} pid {r['pid']})")
        lines.extend(f"      failed: {f['source']}: {f['code']}" for f in r["failures"])
        if r["error"]:
            lines.append(f"      error: {r['error']}")
    waiting = status["waiting"]
    lines.append(f"Waiting: {len(waiting['files'])} file(s), {len(waiting['mail'])} e-mail(s).")
    lines.extend(f"  {p}" for p in waiting["files"] + waiting["mail"])
    lines.append(f"Quarantined: {len(status['quarantined'])} item(s).")
    lines.extend(f"  {q['path']}: {q['reason']}" for q in status["quarantined"])
    return lines
