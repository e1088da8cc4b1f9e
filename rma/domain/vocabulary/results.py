"""What processing one batch produced: the JSON shape of SPEC §7, per batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from rma.domain.vocabulary.printable import shown

#: ``checked``: decided and reported, nothing posted (``rma ingest --check``, SPEC §9)
Status = Literal["posted", "checked", "duplicate", "failed"]


@dataclass(frozen=True)
class NotTaken:
    """A file or e-mail a run did not start because it was asked to stop
    (``rma.service.stopping``): no batch, nothing moved; it waits for the next run."""

    source: str


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
    #: the batch this one corrects (rows corrected in the portal, SPEC §9), else None
    corrects_batch_id: str | None = None
    #: the batches that correct this one (known when a batch is read back; a new one has none)
    corrected_by: list[str] = field(default_factory=list)
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
            "corrects_batch_id": self.corrects_batch_id,
            "corrected_by": list(self.corrected_by),
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
        """One line for people reading the console (the submitter's names in it escaped)."""
        return shown(self._line())

    def _line(self) -> str:
        who = f" ({self.account_id})" if self.account_id else ""
        if self.status == "failed":
            assert self.error is not None
            return f"{self.source}{who}: FAILED {self.error['code']}: {self.error['message']}"
        if self.status == "duplicate":
            return f"{self.source}{who}: duplicate — {self.error['message'] if self.error else ''}"
        checked = self.status == "checked"
        text = (f"{self.source}{who}: {'checked, nothing posted: ' if checked else ''}"
                f"{self.claims_accepted} {'would be ' if checked else ''}accepted, "
                f"{self.claims_rejected} rejected")
        reasons = main_reasons(self.rejections) if self.claims_rejected else ""
        if reasons:
            text += f": {reasons}"
        if self.claim_ids:
            shown = ", ".join(self.claim_ids[:5])
            more = f" and {len(self.claim_ids) - 5} more" if len(self.claim_ids) > 5 else ""
            text += f" [{shown}{more}]"
        if self.reports:
            text += f"; report: {self.reports.get('xlsx')}"
        return text


#: The console line of a batch names this many of its reasons, the most frequent first.
MAIN_REASONS = 3


def rejected_claims_by_reason(rejections: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    """(code, rejected claims) for each reason, most claims first, ties in order of first
    appearance. A claim is its claim_ref, or its row when it has none; a claim rejected for
    two reasons counts under both, one rejected twice for one reason (two rows) once."""
    claims: dict[str, set[tuple[str, object]]] = {}
    for rejection in rejections:
        ref = str(rejection.get("claim_ref") or "").strip()
        claim = ("ref", ref) if ref else ("row", rejection.get("row"))
        claims.setdefault(str(rejection.get("code")), set()).add(claim)
    counted = [(code, len(refs)) for code, refs in claims.items()]
    return sorted(counted, key=lambda pair: -pair[1])  # stable: ties keep their order


def main_reasons(rejections: Iterable[dict[str, Any]]) -> str:
    """``2 DUPLICATE_SN_IN_BATCH, 1 INVALID_EMAIL, 1 INVALID_DATE and 2 other reasons``."""
    counted = rejected_claims_by_reason(rejections)
    text = ", ".join(f"{n} {code}" for code, n in counted[:MAIN_REASONS])
    more = len(counted) - MAIN_REASONS
    if more > 0:
        text += f" and {more} other reason{'s' if more > 1 else ''}"
    return text


class Batches(Sequence[dict[str, Any]]):
    """The JSON batches (``BatchResult.to_json``) a flow returns, in order.

    A Sequence, deliberately not a list: when a flow returns, Prefect walks a list, dict or
    dataclass item by item looking for futures (``prefect.futures.resolve_futures_to_states``),
    which took 2.6 s per flow for the claim ids and rejections of one 200k-row batch. A type
    it does not know is returned untouched. It compares equal to a list of the same batches.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[dict[str, Any]] = ()) -> None:
        self._items = list(items)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Batches):
            return self._items == other._items
        if isinstance(other, list | tuple):
            return self._items == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable contents, like a list

    def __repr__(self) -> str:
        return f"Batches({self._items!r})"
