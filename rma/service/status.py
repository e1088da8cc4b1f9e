"""What `rma status` shows operations: the last runs (claims database), what waits in the
inbox (and what of it has not settled yet), what sits in quarantine with its reason, and
what the drop folders hold that is never read (links, pipes, devices, folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.runs import last_runs
from rma.adapters.inbox import folders, maildir
from rma.adapters.mail.outbox import refused_replies
from rma.domain.vocabulary.printable import shown

ERROR_NOTE = ".error.txt"


def quarantined(root: Path) -> list[dict[str, str]]:
    """Every quarantined file (and link: shown, never followed) with the first line of its
    ``.error.txt``."""
    if not root.is_dir():
        return []
    items = []
    for path in sorted(p for p in root.rglob("*") if (p.is_symlink() or p.is_file())
                       and not p.name.endswith(ERROR_NOTE)):
        note = path.with_name(path.name + ERROR_NOTE)
        reason = note.read_text(encoding="utf-8", errors="replace").splitlines()[:1] \
            if note.exists() else []
        items.append({"path": str(path), "reason": reason[0] if reason else ""})
    return items


def gather(engine: sa.Engine, inbox: Path, quarantine_root: Path, limit: int = 10,
           settle_seconds: float = 0, outbox: Path | None = None) -> dict[str, Any]:
    """``waiting.files`` are every file to take (settled or not); ``not_settled`` those
    that changed less than ``settle_seconds`` ago; ``refused`` what the drop folders
    hold that is never taken (a link: quarantined by the next run; a pipe, device or
    folder: left in place); ``outbox_refused`` the replies the SMTP server refused for good
    (``outbox/refused/``, with the reason and what to do)."""
    runs = last_runs(engine, limit)
    for run in runs:
        for key in ("started_at", "finished_at"):
            run[key] = run[key].isoformat() if run[key] else None
    found = folders.scan(inbox, settle_seconds)
    waiting: list[folders.WaitingFile | folders.Unsettled] = sorted(
        [*found.ready, *found.unsettled], key=lambda w: w.path)
    return {
        "runs": runs,
        "waiting": {"files": [w.source for w in waiting],
                    "mail": [m.source for m in maildir.waiting_mail(inbox)]},
        "not_settled": [{"path": u.source, "quiet_seconds": round(u.quiet_seconds),
                         "settle_seconds": settle_seconds} for u in found.unsettled],
        "quarantined": quarantined(quarantine_root),
        "refused": [{"path": r.source, "reason": r.reason, "action": r.action}
                    for r in [*found.refused, *maildir.refused_mail(inbox)]],
        "outbox_refused": refused_replies(outbox) if outbox is not None else [],
    }


def render(status: dict[str, Any]) -> list[str]:
    """The status as console lines, the submitters' names in them escaped
    (``rma.domain.vocabulary.printable``)."""
    return [shown(line) for line in _lines(status)]


def _lines(status: dict[str, Any]) -> list[str]:
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
    unsettled = {u["path"]: u for u in status.get("not_settled", [])}
    for path in waiting["files"] + waiting["mail"]:
        u = unsettled.get(path)
        lines.append(f"  {path}" + (f"  (not settled: changed {u['quiet_seconds']} s ago; "
                                     f"taken once unchanged for {u['settle_seconds']} s)"
                                     if u else ""))
    lines.append(f"Quarantined: {len(status['quarantined'])} item(s).")
    lines.extend(f"  {q['path']}: {q['reason']}" for q in status["quarantined"])
    refused = status.get("refused", [])
    if refused:
        lines.append(f"Refused (never read): {len(refused)} item(s).")
        lines.extend(f"  {r['path']}: {r['reason']} [{r['action']}]" for r in refused)
    replies = status.get("outbox_refused", [])
    if replies:
        lines.append(f"Replies refused by the SMTP server (outbox/refused/): {len(replies)}.")
        for r in replies:
            lines.append(f"  {r['path']}: {r['reason'] or 'no .error.txt beside it'}")
            if r["action"]:
                lines.append(f"      to do: {r['action']}")
    return lines
