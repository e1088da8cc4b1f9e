"""What processing one batch produced: the JSON shape of SPEC §7, per batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["posted", "duplicate", "failed"]


@dataclass
class BatchResult:
    source: str
    status: Status
    account_id: str | None = None
    batch_id: str | None = None
    claims_accepted: int = 0
    claims_rejected: int = 0
    claim_ids: list[str] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)
    error: dict[str, str] | None = None
    #: for artifacts and the console, not part of the JSON document
    summary_markdown: str = ""
    issue_table: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "account_id": self.account_id,
            "status": self.status,
            "claims_accepted": self.claims_accepted,
            "claims_rejected": self.claims_rejected,
            "claim_ids": list(self.claim_ids),
            "rejections": list(self.rejections),
            "warnings": list(self.warnings),
            "reports": dict(self.reports),
            "error": self.error,
        }

    @classmethod
    def failed(cls, source: str, code: str, message: str, account_id: str | None = None
               ) -> BatchResult:
        return cls(source=source, status="failed", account_id=account_id,
                   error={"code": code, "message": message})

    @property
    def processed(self) -> bool:
        return self.status != "failed"

    def line(self) -> str:
        """One line for people reading the console."""
        who = f" ({self.account_id})" if self.account_id else ""
        if self.status == "failed":
            assert self.error is not None
            return f"{self.source}{who}: FAILED {self.error['code']}: {self.error['message']}"
        if self.status == "duplicate":
            return f"{self.source}{who}: duplicate — {self.error['message'] if self.error else ''}"
        text = (f"{self.source}{who}: {self.claims_accepted} accepted, "
                f"{self.claims_rejected} rejected")
        if self.claim_ids:
            shown = ", ".join(self.claim_ids[:5])
            more = f" and {len(self.claim_ids) - 5} more" if len(self.claim_ids) > 5 else ""
            text += f" [{shown}{more}]"
        if self.reports:
            text += f"; report: {self.reports.get('xlsx')}"
        return text
