"""The claims database schema (SQLAlchemy Core). Alembic migrations must create exactly this.

Timestamps are ``UTCDateTime`` and dates ``ISODate`` (``column_types``): the same values on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

from rma.adapters.db.codes import code_digest
from rma.adapters.db.column_types import ISODate, UTCDateTime
from rma.domain.vocabulary.columns import CANONICAL, CS_FIELDS, DATE_COLUMNS
from rma.domain.vocabulary.levels import ACCOUNT_KINDS, LEVELS

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

CODE_STATUSES = ("issued", "redeemed", "revoked")
SEVERITIES = ("error", "warning")

ID_LEN = 64
SHORT = 16


def _check_in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.String(ID_LEN), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(SHORT), nullable=False),
    sa.Column("partner_level", sa.String(SHORT), nullable=True),
    sa.Column("emails", sa.Text, nullable=False, server_default=""),
    sa.Column("country", sa.String(64), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # drop-folder results are mailed to ``emails`` unless the account opted out
    sa.Column("report_mail", sa.Boolean, nullable=False, server_default=sa.true()),
    #: when the account reached the invalid-code limit (SPEC §4): it stays locked out of RMA
    #: codes, however old the attempts, until `rma codes unlock` clears this
    sa.Column("code_locked_at", UTCDateTime, nullable=True),
    #: attempts before the last unlock no longer count towards the limit
    sa.Column("code_lock_reset_at", UTCDateTime, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    _check_in("kind", ACCOUNT_KINDS, "kind"),
    _check_in("partner_level", LEVELS, "partner_level"),
)

#: The CS-registered fields an RMA code carries (SPEC §2); installation_date is a Date.
_PREFILL_COLUMNS = [
    sa.Column(f, ISODate if f in DATE_COLUMNS else sa.Text, nullable=True) for f in CS_FIELDS
]

rma_codes = sa.Table(
    "rma_codes",
    metadata,
    sa.Column("code_key", sa.String(ID_LEN), primary_key=True),
    #: the lookup key for submitted codes (see rma.adapters.db.codes.code_digest); filled on insert
    sa.Column("code_digest", sa.String(64), nullable=False, unique=True,
              default=lambda ctx: code_digest(ctx.get_current_parameters()["code_key"])),
    sa.Column("code", sa.String(ID_LEN), nullable=False),
    sa.Column("account_id", sa.String(ID_LEN), sa.ForeignKey("accounts.account_id"),
              nullable=False, index=True),
    sa.Column("serial_numbers", sa.Text, nullable=False, server_default=""),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(SHORT), nullable=False, server_default="issued"),
    sa.Column("redeemed_at", UTCDateTime, nullable=True),
    sa.Column("redeemed_claim_id", sa.String(32), nullable=True),
    *_PREFILL_COLUMNS,
    _check_in("status", CODE_STATUSES, "status"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.String(32), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("account_id", sa.String(ID_LEN), nullable=True),
    sa.Column("sheet", sa.String(200), nullable=True),
    sa.Column("file_format", sa.String(SHORT), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("claims_accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claims_rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(SHORT), nullable=False, server_default="posted"),
    #: where its rejection reports were written (JSON: {"xlsx": path, "csv": path}); NULL for
    #: a batch with none, and for batches posted before revision 0009
    sa.Column("reports", sa.Text, nullable=True),
    #: the batch this one corrects (SPEC §9: rows corrected in the portal), a posted or a
    #: checked batch of the same account; NULL for any other batch (revision 0010)
    sa.Column("corrects_batch_id", sa.String(32), nullable=True, index=True),
    #: where the file it was posted from is kept once moved (the archive), for a batch sent
    #: through the portal or the API: its review page shows its rows as sent; else NULL
    sa.Column("file", sa.Text, nullable=True),
)

#: Canonical columns stored on the claim itself (SN lines, account, ref and code are apart).
CLAIM_DATA_COLUMNS: tuple[str, ...] = (
    *(c for c in CANONICAL if c not in {"serial_number", "account_id", "claim_ref", "rma_code"}),
    "assessment",  # Customer Service's assessment, from the claim's RMA code
)

claims = sa.Table(
    "claims",
    metadata,
    sa.Column("claim_id", sa.String(32), primary_key=True),
    sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.batch_id"), nullable=False,
              index=True),
    sa.Column("account_id", sa.String(ID_LEN), sa.ForeignKey("accounts.account_id"),
              nullable=False),
    sa.Column("claim_ref", sa.String(ID_LEN), nullable=True),
    sa.Column("status", sa.String(SHORT), nullable=False, server_default="submitted"),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("rma_code", sa.String(ID_LEN), nullable=True),
    sa.Column("first_row", sa.Integer, nullable=True),
    *[sa.Column(c, ISODate if c in DATE_COLUMNS else sa.Text, nullable=True)
      for c in CLAIM_DATA_COLUMNS],
    #: claim_ref as it is compared (rma.domain.rules.claims.claim_ref_key: ``cb-1`` is ``CB-1``),
    #: written by the repository; NULL for no ref, and for a claim posted before revision
    #: 0005 whose ref an older claim of the account already has in this form
    sa.Column("claim_ref_key", sa.Text, nullable=True),
    # NULL claim_ref never collides (NULLs are distinct in a UNIQUE constraint on both DBs).
    sa.UniqueConstraint("account_id", "claim_ref"),
)
#: The database itself refuses a second claim of an account under one reference however it is
#: written (a concurrent posting of ``cb-1`` beside ``CB-1``); an index, not a constraint, so
#: that migrating SQLite adds it without rebuilding the claims table.
CLAIM_REF_KEY_INDEX = sa.Index("uq_claims_account_id_claim_ref_key", claims.c.account_id,
                               claims.c.claim_ref_key, unique=True)

#: Partial predicate of the open-SN index; queries for open lines must use the same text so
#: SQLite's planner can use the partial index.
OPEN_PREDICATE = "is_open"

claim_lines = sa.Table(
    "claim_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(32), sa.ForeignKey("claims.claim_id"), nullable=False,
              index=True),
    sa.Column("serial_number", sa.String(ID_LEN), nullable=False),
    sa.Column("sheet_row", sa.Integer, nullable=True),
    sa.Column("is_open", sa.Boolean, nullable=False, server_default=sa.true()),
)
#: The database itself forbids two open claims on one SN (SPEC §5).
OPEN_SERIAL_INDEX = sa.Index(
    "uq_claim_lines_open_serial",
    claim_lines.c.serial_number,
    unique=True,
    postgresql_where=sa.text(OPEN_PREDICATE),
    sqlite_where=sa.text(OPEN_PREDICATE),
)

batch_issues = sa.Table(
    "batch_issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.batch_id"), nullable=False,
              index=True),
    sa.Column("sheet", sa.String(200), nullable=True),
    sa.Column("row", sa.Integer, nullable=True),
    sa.Column("claim_ref", sa.String(ID_LEN), nullable=True),
    sa.Column("serial_number", sa.Text, nullable=True),
    sa.Column("column", sa.String(200), nullable=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("severity", sa.String(SHORT), nullable=False),
    _check_in("severity", SEVERITIES, "severity"),
)

code_attempts = sa.Table(
    "code_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(ID_LEN), nullable=False),
    sa.Column("code_key", sa.String(ID_LEN), nullable=False),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
)
sa.Index("ix_code_attempts_account_id_attempted_at", code_attempts.c.account_id,
         code_attempts.c.attempted_at)

claim_id_counters = sa.Table(
    "claim_id_counters",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last", sa.Integer, nullable=False),
)

#: E-mails taken in (SPEC §8): a re-delivered copy (same Message-ID, same bytes, or the same
#: content as an answered message within RMA_REDELIVERY_DAYS) is a duplicate; the sender's
#: Authentication-Results are kept with the record.
mail_messages = sa.Table(
    "mail_messages",
    metadata,
    sa.Column("message_id", sa.String(998), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    # what was sent, without transport headers (rma.adapters.mail.message.content_hash): a
    # re-delivery under a new Message-ID has it too. NULL for messages taken in before
    # revision 0008.
    # Not unique: the same content sent again after RMA_REDELIVERY_DAYS is taken in again.
    sa.Column("content_sha256", sa.String(64), nullable=True, index=True),
    sa.Column("sender", sa.Text, nullable=True),
    sa.Column("account_id", sa.String(ID_LEN), nullable=True),
    sa.Column("subject", sa.Text, nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(SHORT), nullable=False),
    sa.Column("error_code", sa.String(32), nullable=True),
    sa.Column("authentication_results", sa.Text, nullable=True),
    sa.Column("batch_ids", sa.Text, nullable=False, server_default=""),
    sa.Column("reply_message_id", sa.Text, nullable=True),
)

#: Inbox runs (SPEC §8, the nightly job): who ran, when, what came of it. A row is written
#: when a run has taken the inbox's run lock and updated when it ends; a row still
#: ``running`` whose lock is free belonged to a run that died (marked ``interrupted``).
RUN_STATUSES = ("running", "finished", "failed", "interrupted")
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(ID_LEN), primary_key=True),
    sa.Column("inbox", sa.Text, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("flow_run_id", sa.String(ID_LEN), nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("status", sa.String(SHORT), nullable=False),
    sa.Column("files", sa.Integer, nullable=False, server_default="0"),
    sa.Column("batches_posted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("batches_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claims_accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claims_rejected", sa.Integer, nullable=False, server_default="0"),
    #: JSON list of {"source", "code", "message"} for the batches that could not be processed
    sa.Column("failures", sa.Text, nullable=False, server_default="[]"),
    sa.Column("error", sa.Text, nullable=True),
)
sa.Index("ix_runs_started_at", runs.c.started_at)

# The portal's pages of an account's claims and batches (``listing``, revision 0011): a page
# is read from these in order, not sorted from every row of the account; an SN is found
# among closed lines too (the open-SN index holds only open ones).
sa.Index("ix_claims_account_id_claim_id", claims.c.account_id, claims.c.claim_id)
sa.Index("ix_claim_lines_serial_number", claim_lines.c.serial_number)
sa.Index("ix_batches_account_id_received_at", batches.c.account_id, batches.c.received_at)
