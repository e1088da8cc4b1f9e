"""Each setting is declared once (rma.config): the settings, their defaults, the decision's
policy and docs/configuration.md all come from that declaration."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from rma.config import Settings, declared, load_settings
from rma.config.declare import SECTIONS
from rma.config.reference import COMMAND, markdown
from rma.domain.rules.policy import Policy
from tests.rules import NOW

ROOT = Path(__file__).resolve().parents[2]


def test_docs_configuration_md_is_what_the_declaration_generates():
    written = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert written == markdown(), f"docs/configuration.md is stale: run {COMMAND}"
    assert COMMAND in written


def test_every_setting_is_in_the_reference_once_under_a_section_of_what_a_user_sets_or_knobs():
    settings = list(declared())
    names = [s.env for s in settings]
    assert len(names) == len(set(names)) == 50  # the portal's 7 and RMA_UPLOADS (SPEC §9) since 42
    text = markdown()
    for name in names:
        assert text.count(f"| `{name}` |") == 1, name
    assert {s.section for s in settings} == set(SECTIONS)
    user = {s.env for s in settings if s.section.user}
    assert {"RMA_DATABASE_URL", "RMA_INBOX", "RMA_SMTP_URL", "RMA_MAIL_FROM",
            "RMA_SCHEDULE_CRON", "RMA_TIMEZONE", "RMA_ELIGIBILITY_THRESHOLD",
            "RMA_LOCKOUT_ATTEMPTS", "RMA_LOCKOUT_HOURS", "RMA_CODE_VALIDITY_DAYS",
            "RMA_FANOUT_DEPLOYMENT"} <= user
    assert not user & {"RMA_MAX_ROWS", "RMA_DB_POOL_RECYCLE", "RMA_TASK_GROUP_FILES"}
    assert text.index("## What you set") < text.index("## Tuning knobs")


def test_an_empty_environment_gives_the_declared_defaults():
    assert load_settings({}) == Settings()
    blank = {s.env: " " for s in declared()}
    assert load_settings(blank) == Settings()  # blank is unset


def test_the_policy_has_no_defaults_of_its_own_and_takes_the_settings():
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for f in dataclasses.fields(Policy))
    policy = load_settings({"RMA_ELIGIBILITY_THRESHOLD": "Silver", "RMA_LOCKOUT_ATTEMPTS": "2",
                            "RMA_LOCKOUT_HOURS": "1"}).policy(NOW)
    assert policy.now == NOW
    assert (policy.terms.threshold, policy.terms.lockout_attempts,
            policy.terms.lockout_hours) == ("silver", 2, 1)


def test_the_defaults_the_runbook_names_are_the_declared_ones():
    runbook = (ROOT / "docs" / "RUNBOOK.md").read_text(encoding="utf-8")
    defaults = {s.env: s.default for s in declared()}
    named = re.findall(r"`(RMA_[A-Z_]+)` \(default `([^`]*)`\)", runbook)
    named += re.findall(r"\| `(RMA_[A-Z_]+)` \| `([^`]*)` \|", runbook)
    assert ("RMA_LOCKOUT_ATTEMPTS", "5") in named and ("RMA_LOCKOUT_HOURS", "24") in named
    for name, value in named:
        assert value == str(defaults[name]), name
