"""What a decision applies besides its data: the time and the configured terms. Built from the
settings (``Settings.policy``) and passed in: the rules read no settings and default none."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rma.domain.vocabulary.reasons import Terms


@dataclass(frozen=True)
class Policy:
    now: dt.datetime
    terms: Terms  # the eligibility threshold and the lock-out, and the words that name them
