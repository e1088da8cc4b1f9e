"""Claim references compared as a person reads them (SPEC §3: rows sharing a claim_ref form
one claim; §4.7: a claim_ref already posted by the account): the key, the grouping, the
CLAIM_REF_MERGED warning and DUPLICATE_CLAIM_REF against posted refs."""

from __future__ import annotations

import pandas as pd
import pytest

from rma.domain.rules.claims import claim_ref_key, claim_ref_keys
from tests.rules import claim, codes_of, frame, reference, run


@pytest.mark.parametrize("spelling", [
    "CB-1", "cb-1", "Cb-1", " CB-1 ", "CB\u20101", "CB\u20111", "CB\u20131", "CB\u20141",
    "CB\u22121", "CB\ufe581", "CB\ufe631", "CB\uff0d1", "\uff23\uff22-1",
    "\uff43\uff42\uff0d\uff11",
    "CB-1\u200b", "C\u00adB-1", "\ufeffCB-1", "CB-\u00b9",
])
def test_spellings_that_look_alike_have_one_key(spelling):
    assert claim_ref_key(spelling) == "CB-1"


@pytest.mark.parametrize(("one", "other"), [
    ("CB-1", "CB-2"), ("CB-1", "CB1"), ("CB-1", "CB 1"), ("CB-1", "CB_1"), ("CB-1", "CB-1a"),
])
def test_different_references_keep_different_keys(one, other):
    assert claim_ref_key(one) != claim_ref_key(other)


def test_white_space_runs_are_one_space_and_case_folds_beyond_ascii():
    assert claim_ref_key("Auftrag\t 17\u00a0 a") == "AUFTRAG 17 A"
    assert claim_ref_key("straße-1") == claim_ref_key("STRASSE-1") == "STRASSE-1"
    assert claim_ref_key("ΣΟΦΊΑ") == claim_ref_key("σοφία") == claim_ref_key("σοφι\u0301α")


def test_a_key_is_its_own_key():
    for ref in ("cb-1", "ＣＢ‐1", "straße", "ǅ-1", "ﬃ", "ŉ", "\u0130stanbul", "ǰ", "Ａ  Ｂ"):
        assert claim_ref_key(claim_ref_key(ref)) == claim_ref_key(ref), ref


def test_a_ref_that_is_its_own_key_is_the_same_object_and_nothing_visible_is_no_ref():
    refs = pd.Series(["C-17", "c-17", None, "\u200b\u200c"], dtype=object)
    keys = claim_ref_keys(refs)
    assert keys[0] is refs[0]
    assert list(keys) == ["C-17", "C-17", None, None]


def _merged(decision) -> list[tuple[int, str]]:
    hits = decision.issues[decision.issues["code"] == "CLAIM_REF_MERGED"]
    return list(zip(hits["row"], hits["value"], strict=True))


def test_four_spellings_are_one_claim_that_keeps_the_first_and_warns_on_the_others():
    decision = run(frame(claim(claim_ref="SD-1", serial_number="SN100001"),
                         claim(claim_ref="sd-1", serial_number="SN100002"),
                         claim(claim_ref="SD\u20101", serial_number="SN100003"),
                         claim(claim_ref="\uff33\uff24-1", serial_number="SN100004"),
                         claim(claim_ref="SD-1", serial_number="SN100005")))
    assert decision.claims_accepted == 1 and decision.claims_rejected == 0
    assert decision.accepted.loc[0, "claim_ref"] == "SD-1"
    assert len(decision.lines) == 5
    assert _merged(decision) == [(3, "sd-1"), (4, "SD\u20101"), (5, "\uff33\uff24-1")]
    assert codes_of(decision) == {"CLAIM_REF_MERGED"}  # a warning: the claim is accepted


def test_refs_written_alike_in_every_row_give_no_warning():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-2", serial_number="SN100002"),
                         claim(claim_ref="C-1", serial_number="SN100003")))
    assert decision.issues.empty


def test_a_spelling_of_a_posted_ref_is_a_duplicate_naming_what_was_posted():
    posted = pd.DataFrame({"account_id": ["D-001", "I-GOLD"], "claim_ref": ["cb-1", "SD-1"],
                           "claim_id": ["RMA-2026-000001", "RMA-2026-000002"]})
    decision = run(frame(claim(claim_ref="CB\u20101", serial_number="SN100001"),
                         claim(claim_ref="sd-1", serial_number="SN100002")),
                   ref=reference(posted_refs=posted))
    duplicates = decision.issues[decision.issues["code"] == "DUPLICATE_CLAIM_REF"]
    assert list(duplicates["row"]) == [2]  # SD-1 is another account's
    assert duplicates.iloc[0]["message"] == (
        "This claim reference was already filed by your account (as cb-1, claim "
        "RMA-2026-000001).")
    assert list(decision.accepted["claim_ref"]) == ["sd-1"]
