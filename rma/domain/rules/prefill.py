"""Step 5 of the decision: Customer Service's registered fields fill the claim in.

CS values win. A different non-blank value from the submitter is kept in the claim's notes
and reported as a ``PREFILL_CONFLICT`` warning; the submitter's values fill what CS left
blank.
"""

from __future__ import annotations

import pandas as pd

from rma.domain.vocabulary.columns import LABELS, PREFILL_FIELDS
from rma.domain.vocabulary.issues import concat_issues, issues_where
from rma.domain.vocabulary.reasons import Reason


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Equal ignoring case and whitespace: ``10 115`` is ``10115``, ``anna  schmidt`` is
    ``Anna Schmidt``."""
    def fold(s: pd.Series) -> pd.Series:
        return s.astype("string").str.replace(r"\s+", "", regex=True).str.casefold()

    return (fold(a) == fold(b)).fillna(False).astype(bool)


def prefill(rows: pd.DataFrame, registered: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill ``rows`` from ``registered`` (CS fields, normalised like rows, same index;
    all-blank where a row has no usable code). Returns resolved rows and warnings."""
    resolved = rows.copy(deep=False)  # copy-on-write: a filled column replaces, never edits
    warnings = []
    notes: list[pd.Series] = []
    for field in PREFILL_FIELDS:
        cs = registered[field] if field in registered.columns else None
        if cs is None or not cs.notna().any():
            continue
        sent = rows[field]
        conflict = cs.notna() & sent.notna() & ~_same(cs, sent)
        resolved[field] = cs.where(cs.notna(), sent).astype(object)
        if conflict.any():
            label = LABELS[field]
            message = ("Customer Service registered " + cs.astype(str).map(repr)
                       + "; that was used and your value was kept in the notes.")
            warnings.append(issues_where(conflict, field, Reason.PREFILL_CONFLICT, message,
                                         sent))
            notes.append(("Submitted " + label + ": " + sent.astype(str)).where(conflict))
    if notes:
        parts = pd.concat([n.dropna() for n in notes])
        extra = parts.groupby(level=0).agg("; ".join).reindex(rows.index)
        combined = resolved["notes"].fillna("").astype(str).str.cat(
            extra.fillna(""), sep="\n").str.strip()
        resolved["notes"] = combined.where(extra.notna(), resolved["notes"]).astype(object)
    return resolved, concat_issues(warnings)
