"""Who a batch is from (every unit of work of the service is given one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Who a batch is from: the drop folder, mail sender or --account; None = by hand."""

    account_id: str | None
    source: str
    #: the batch whose rows this one corrects (SPEC §9, the portal's corrections)
    corrects_batch_id: str | None = None
