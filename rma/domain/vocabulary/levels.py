"""Service-partner levels, lowest first: the order the eligibility threshold compares in."""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("none", "bronze", "silver", "gold", "platinum")
ACCOUNT_KINDS: tuple[str, ...] = ("distributor", "installer")


def level_rank(level: str) -> int:
    """The position of ``level`` in ``LEVELS`` (``ValueError`` for an unknown level)."""
    return LEVELS.index(level)
