"""Configuration in one place: environment variables with local defaults, read once.

Each setting is declared once, as its dataclass field (``declare.setting``): the variable, the
parser, the default, a line of help and its section. ``load_settings`` reads them all and
docs/configuration.md is generated from them (``python -m rma.config --markdown``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rma.config import declare as d
from rma.domain.rules.policy import Policy
from rma.domain.vocabulary.levels import LEVELS
from rma.domain.vocabulary.reasons import Terms

MiB = 1024 * 1024
#: RMA_CHUNK_ROWS when RMA_DASK_ADDRESS is set and RMA_CHUNK_ROWS is not
CHUNK_ROWS_ON_DASK = 100_000
BESIDE = "beside the inbox"


def nested(cls: type) -> Any:
    """A field holding a group of settings of its own (``Limits``, ``DbPool``)."""
    return field(default_factory=cls, metadata={"nested": cls})


@dataclass(frozen=True)
class Limits:
    """Caps for untrusted files; every one is configurable (RMA_MAX_*)."""

    file_bytes: int = d.setting(
        "RMA_MAX_FILE_BYTES", 50 * MiB, d.whole, d.FILES, "a larger claim file is `TOO_LARGE`")
    inflated_bytes: int = d.setting(
        "RMA_MAX_INFLATED_BYTES", 400 * MiB, d.whole, d.FILES, "unzipped size of an xlsx")
    rows: int = d.setting(
        "RMA_MAX_ROWS", 1_000_000, d.whole, d.FILES, "rows (and merged ranges) of a sheet")
    columns: int = d.setting("RMA_MAX_COLUMNS", 200, d.whole, d.FILES, "columns of a sheet")
    cell_chars: int = d.setting(
        "RMA_MAX_CELL_CHARS", 32_767, d.whole, d.FILES, "characters in a cell (Excel's limit)")
    # 1M rows of the 22 claim columns fit; reading costs ~50 bytes a cell, however empty
    cells: int = d.setting(
        "RMA_MAX_CELLS", 25_000_000, d.whole, d.FILES, "rows × columns a sheet spans from A1")


@dataclass(frozen=True)
class DbPool:
    """Connection pool of the claims database on PostgreSQL (RMA_DB_*); SQLite ignores it. A
    dead connection is noticed at checkout (pre-ping) or by TCP keepalives."""

    size: int = d.setting(
        "RMA_DB_POOL_SIZE", 5, d.positive, d.POOL, "connections kept open per process")
    max_overflow: int = d.setting(
        "RMA_DB_MAX_OVERFLOW", 10, d.whole, d.POOL, "extra connections opened under load")
    timeout: int = d.setting(
        "RMA_DB_POOL_TIMEOUT", 30, d.positive, d.POOL, "seconds to wait for a free connection")
    recycle: int = d.setting(
        "RMA_DB_POOL_RECYCLE", 1800, d.whole, d.POOL,
        "seconds before a connection is replaced (`-1`: never); below any firewall's idle timeout")
    connect_timeout: int = d.setting(
        "RMA_DB_CONNECT_TIMEOUT", 10, d.positive, d.POOL, "seconds to wait when connecting")
    keepalive_idle: int = d.setting(
        "RMA_DB_KEEPALIVE_IDLE", 60, d.positive, d.POOL,
        "TCP keepalive: a silent peer is found dead after this + 3 × 10 s")


#: where sign-in links point when RMA_PORTAL_URL is unset (`rma web`'s own default address)
DEFAULT_PORTAL_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Portal:
    """The portal and the HTTP API (SPEC §9): its address, how long sign-ins last, and the
    rate limits, counted in the claims database so that they hold across worker processes."""

    url: str | None = d.setting(
        "RMA_PORTAL_URL", None, d.stripped, d.PORTAL,
        "the portal's public address: sign-in links, and the review links in replies and "
        "drop-folder reports (unset: no review links)",
        f"unset (sign-in links: `{DEFAULT_PORTAL_URL}`)")
    session_hours: int = d.setting(
        "RMA_SESSION_HOURS", 12, d.positive, d.PORTAL, "a portal sign-in lasts this long")
    signin_link_minutes: int = d.setting(
        "RMA_SIGNIN_LINK_MINUTES", 30, d.positive, d.PORTAL,
        "a sign-in link asked for on the sign-in page works once within this time")
    invite_link_hours: int = d.setting(
        "RMA_INVITE_LINK_HOURS", 72, d.positive, d.PORTAL,
        "the sign-in link `rma users add` prints and mails works once within this time")
    signin_rate: d.Rate = d.setting(
        "RMA_RATE_SIGNIN", d.Rate(10, 900), d.rate, d.PORTAL,
        "sign-in links asked for, per address and per client address (`COUNT/PERIOD`)")
    code_lookup_rate: d.Rate = d.setting(
        "RMA_RATE_CODE_LOOKUPS", d.Rate(30, 3600), d.rate, d.PORTAL,
        "RMA code look-ups per account (`GET /api/v1/codes/…`, the claim form)")
    upload_rate: d.Rate = d.setting(
        "RMA_RATE_UPLOADS", d.Rate(60, 3600), d.rate, d.PORTAL,
        "batches and claims sent per account, checks included")

    @property
    def link_base(self) -> str:
        """The address links are made from (no trailing slash)."""
        return (self.url or DEFAULT_PORTAL_URL).rstrip("/")


@dataclass(frozen=True)
class Settings:
    database_url: str = d.setting(
        "RMA_DATABASE_URL", "sqlite:///rma.db", d.text, d.DATABASE,
        "the claims database, an SQLAlchemy URL (`postgresql://…`: psycopg 3)")
    eligibility_threshold: str = d.setting(
        "RMA_ELIGIBILITY_THRESHOLD", "gold", d.Choice(LEVELS), d.CLAIMS,
        "installers at or above this partner level file without an RMA code")
    code_validity_days: int = d.setting(
        "RMA_CODE_VALIDITY_DAYS", 90, d.whole, d.CLAIMS, "days a code from `rma codes issue` lasts")
    lockout_attempts: int = d.setting(
        "RMA_LOCKOUT_ATTEMPTS", 5, d.whole, d.CLAIMS,
        "invalid RMA codes in the window that lock an account out of codes (`rma codes unlock`)")
    lockout_hours: int = d.setting(
        "RMA_LOCKOUT_HOURS", 24, d.whole, d.CLAIMS,
        "the window, in hours, in which the invalid codes count")
    inbox: Path = d.setting(
        "RMA_INBOX", Path("inbox"), d.path, d.FOLDERS, "the drop folder `run-inbox` reads")
    # an upload under its final name may still be running
    settle_seconds: int = d.setting(
        "RMA_SETTLE_SECONDS", 60, d.non_negative, d.RUNS,
        "a drop-folder file is taken once unchanged this long (`0`: at once)")
    archive: Path | None = d.setting(
        "RMA_ARCHIVE", None, d.path, d.FOLDERS, "where processed files go", BESIDE)
    quarantine: Path | None = d.setting(
        "RMA_QUARANTINE", None, d.path, d.FOLDERS, "files that cannot be processed", BESIDE)
    reports: Path | None = d.setting(
        "RMA_REPORTS", None, d.path, d.FOLDERS, "the rejection reports", BESIDE)
    outbox: Path | None = d.setting(
        "RMA_OUTBOX", None, d.path, d.FOLDERS, "e-mail replies waiting to be sent", BESIDE)
    returns: Path | None = d.setting(
        "RMA_RETURNS", None, d.path, d.FOLDERS, "what is synced back to each account", BESIDE)
    uploads: Path | None = d.setting(
        "RMA_UPLOADS", None, d.path, d.FOLDERS,
        "files sent through the portal and the API until they are posted (checked ones stay "
        "here to be submitted)", BESIDE)
    limits: Limits = nested(Limits)
    smtp_url: str | None = d.setting(
        "RMA_SMTP_URL", None, d.text, d.MAIL,
        "`smtp://user:password@host:587?starttls=true` or `smtps://…`; unset: replies wait")
    mail_from: str = d.setting(
        "RMA_MAIL_FROM", "rma-intake@localhost", d.text, d.MAIL, "the From address of replies")
    max_attachment_bytes: int = d.setting(
        "RMA_MAX_ATTACHMENT_BYTES", 25 * MiB, d.whole, d.FILES, "an e-mail attachment")
    max_body_bytes: int = d.setting(
        "RMA_MAX_BODY_BYTES", 2 * MiB, d.positive, d.FILES,
        "the text body of an e-mail (the form), and a claim sent to the API as JSON")
    redelivery_days: int = d.setting(
        "RMA_REDELIVERY_DAYS", 7, d.non_negative, d.FILES,
        "days within which an e-mail with an answered one's content is a re-delivery, not "
        "answered again (`0`: only the same Message-ID or bytes)")
    workers: int = d.setting(
        "RMA_WORKERS", 4, d.positive, d.SHAPE, "tasks (files, groups of small files) run at once")
    task_group_files: int = d.setting(
        "RMA_TASK_GROUP_FILES", 25, d.positive, d.RUNS, "small files per task (`1`: one each)")
    task_group_bytes: int = d.setting(
        "RMA_TASK_GROUP_BYTES", MiB, d.positive, d.RUNS, "a larger file is a task of its own")
    processes: int | None = d.setting(
        "RMA_PROCESSES", None, d.auto_or_count, d.RUNS,
        "processes for groups of small files (`auto`: per CPU, for many; `0`: threads)", "`auto`")
    schedule_cron: str = d.setting(
        "RMA_SCHEDULE_CRON", "0 2 * * *", d.stripped, d.SCHEDULE, "the nightly run's schedule")
    timezone: str = d.setting(
        "RMA_TIMEZONE", "UTC", d.iana_zone, d.SCHEDULE, "its IANA time zone (`Europe/Berlin`)")
    fanout_deployment: str | None = d.setting(
        "RMA_FANOUT_DEPLOYMENT", None, d.stripped, d.SHAPE,
        "`ingest-files/group`: the nightly run spreads its files over the work pool")
    fanout_group_files: int = d.setting(
        "RMA_FANOUT_GROUP_FILES", 20, d.positive, d.RUNS, "files in a group of the fan-out")
    fanout_group_bytes: int = d.setting(
        "RMA_FANOUT_GROUP_BYTES", 64 * MiB, d.positive, d.RUNS, "bytes in a group of the fan-out")
    fanout_timeout_seconds: int = d.setting(
        "RMA_FANOUT_TIMEOUT_SECONDS", 6 * 3600, d.positive, d.RUNS,
        "how long the nightly run waits for its groups")
    db_pool: DbPool = nested(DbPool)
    portal: Portal = nested(Portal)
    # chunked by default only with a Dask cluster to spread the chunks over: on one machine
    # they share one interpreter lock, and the extra pass over the file costs time and memory
    chunk_rows: int = d.setting(
        "RMA_CHUNK_ROWS", 0, d.whole, d.RUNS, "files of more rows are checked in chunks this big",
        f"`0`; `{CHUNK_ROWS_ON_DASK}` with `RMA_DASK_ADDRESS`")
    dask_address: str | None = d.setting(
        "RMA_DASK_ADDRESS", None, d.stripped, d.SHAPE,
        "`tcp://host:8786`: the Dask cluster that checks the chunks (`pip install '.[scale]'`)")
    progress: str = d.setting(
        "RMA_PROGRESS", "auto", d.Choice(("auto", "bar", "plain", "off")), d.CONSOLE,
        "progress of `ingest`, `run-inbox` (`auto`: a bar on a terminal; never with `--json`)")

    def beside_inbox(self, name: str, inbox: Path | None = None) -> Path:
        """archive/, quarantine/, reports/, outbox/, returns/, uploads/ sit beside the inbox
        unless configured."""
        configured = getattr(self, name)
        if configured is not None:
            return Path(configured)
        base = Path(inbox) if inbox is not None else self.inbox
        return base.resolve().parent / name

    @property
    def terms(self) -> Terms:
        return Terms(self.eligibility_threshold, self.lockout_attempts, self.lockout_hours)

    def policy(self, now: dt.datetime) -> Policy:
        """What the decision of a batch decided at ``now`` applies."""
        return Policy(now=now, terms=self.terms)


def declared(cls: type = Settings) -> Iterator[d.Setting]:
    """Every setting of ``cls``, in declaration order (its groups where they stand)."""
    for item in fields(cls):
        if "nested" in item.metadata:
            yield from declared(item.metadata["nested"])
        else:
            yield item.metadata["setting"]


def _read(cls: type, env: Mapping[str, str]) -> dict[str, Any]:
    return {item.name: item.metadata["nested"](**_read(item.metadata["nested"], env))
            if "nested" in item.metadata else item.metadata["setting"].read(env)
            for item in fields(cls)}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (``os.environ`` unless given)."""
    env = dict(os.environ if env is None else env)
    values = _read(Settings, env)
    if values["dask_address"] and not (env.get("RMA_CHUNK_ROWS") or "").strip():
        values["chunk_rows"] = CHUNK_ROWS_ON_DASK
    return Settings(**values)
