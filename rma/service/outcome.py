"""What one batch's unit of work hands back (``rma.service.batch``): the input of its reports,
the reports written inside the posting transaction, and its result, the batch object of
SPEC §7; also the result of content already posted."""

from __future__ import annotations

from pathlib import Path

from rma.adapters.reports import ReportInput, issue_table, summary_markdown, write_reports
from rma.domain.rules.decide import Decision
from rma.domain.vocabulary.reasons import Reason, Terms, is_warning
from rma.domain.vocabulary.results import BatchResult, Status
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import ReportNotWritten
from rma.service.origin import Origin


def write_batch_reports(report: ReportInput, reports_dir: Path, stem: str) -> dict[str, Path]:
    """Reports are written inside the posting transaction, before anything is posted: a full
    disk or an unwritable folder rolls the whole batch back and the file stays waiting."""
    try:
        return write_reports(report, reports_dir, stem)
    except OSError as exc:
        raise ReportNotWritten(
            f"the rejection report could not be written to {reports_dir} "
            f"({exc.strerror or exc}); nothing of this batch was posted"
        ) from exc


def duplicate_result(source: str, account_id: str | None, first: str) -> BatchResult:
    """The one "already processed" result: content posted before as batch ``first`` (by a
    batch, or found by the fan-out's summary); nothing is posted again."""
    return BatchResult(source=source, status="duplicate", account_id=account_id,
                       batch_id=first,
                       error={"code": str(Reason.DUPLICATE_BATCH),
                              "message": f"This file was already processed as batch {first}; "
                                         "nothing was posted again."})


def report_input(sheet: SheetData, decision: Decision, claim_ids: list[str], batch_id: str,
                  account_id: str | None, terms: Terms, check: bool = False,
                  review_url: str = "") -> ReportInput:
    """What the reports of a decided batch are written from."""
    refs = decision.rows["claim_ref"]
    # the reports name the claims of rejected rows and of rows with an issue; a claim
    # without a claim_ref is called "row N" (claim_label's default)
    named = (refs.index.isin(decision.rejected_rows) | refs.index.isin(decision.issues["row"])
             ) & refs.notna().to_numpy()
    refs = refs[named]
    return ReportInput(
        sheet=sheet, issues=decision.issues, rejected_rows=decision.rejected_rows,
        claim_of_row=dict(zip(refs.index.astype(int), refs.astype(str), strict=True)),
        claims_accepted=decision.claims_accepted, claims_rejected=decision.claims_rejected,
        claim_ids=claim_ids, account_id=account_id, terms=terms, review_url=review_url,
        # the reports name the batch; a check's say on that line that nothing was posted
        batch_id=f"{batch_id} (checked only: nothing was posted)" if check else batch_id)


def batch_result(source: str, origin: Origin, batch_id: str, decision: Decision,
            claim_ids: list[str], report: ReportInput, reports: dict[str, Path],
            status: Status) -> BatchResult:
    """The batch object of SPEC §7 (``--json``) of a decided batch: its rejections (the
    report's lines), its warnings, its reports and summary."""
    table = issue_table(report)
    warning_mask = decision.issues["code"].map(is_warning).astype(bool)
    rejections = [
        {k: line.get(k) for k in ("sheet", "row", "claim_ref", "serial_number", "column",
                                  "code", "message")}
        for line in table if not is_warning(line["code"])
    ]
    found = decision.issues[warning_mask]
    warnings = [
        {"row": int(row), "code": code, "column": column, "message": message}
        for row, code, column, message in zip(
            found["row"].tolist(), found["code"].tolist(), found["column"].tolist(),
            found["message"].tolist(), strict=True)
    ]
    return BatchResult(
        source=source, status=status, account_id=origin.account_id, batch_id=batch_id,
        corrects_batch_id=origin.corrects_batch_id,
        claims_accepted=decision.claims_accepted, claims_rejected=decision.claims_rejected,
        claim_ids=claim_ids, rejections=rejections, warnings=warnings,
        reports={k: str(v) for k, v in reports.items()},
        summary_markdown=summary_markdown(report) if len(decision.issues) else "",
        issue_table=table,
    )
