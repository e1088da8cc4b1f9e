"""Configuration in one place: environment variables with local defaults, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

LEVELS: tuple[str, ...] = ("none", "bronze", "silver", "gold", "platinum")


def level_rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class Limits:
    """Caps for untrusted files; every one is configurable (RMA_MAX_*)."""

    file_bytes: int = 50 * 1024 * 1024
    inflated_bytes: int = 400 * 1024 * 1024
    rows: int = 1_000_000
    columns: int = 200
    cell_chars: int = 32_767
    #: rows x columns of the area a sheet spans (from A1 to its farthest cell): what reading
    #: it costs (~50 bytes a cell), however empty; e.g. 400,000 rows of 25 columns
    cells: int = 25_000_000  # 1M rows of the 22 claim columns fit; ~50 bytes a cell to read


@dataclass(frozen=True)
class DbPool:
    """Connection pool of the claims database on PostgreSQL (RMA_DB_*); SQLite ignores it.

    ``size`` connections stay open, ``max_overflow`` more are opened under load, a caller
    waits ``timeout`` s for one before failing, connections are replaced after ``recycle`` s
    (-1: never) and a dead one is noticed at checkout (pre-ping) or within about
    ``keepalive_idle`` + 3 x 10 s by TCP keepalives when the network drops.
    """

    size: int = 5
    max_overflow: int = 10
    timeout: int = 30
    recycle: int = 1800
    connect_timeout: int = 10
    keepalive_idle: int = 60


#: RMA_CHUNK_ROWS when RMA_DASK_ADDRESS is set and RMA_CHUNK_ROWS is not
CHUNK_ROWS_ON_DASK = 100_000


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///rma.db"
    eligibility_threshold: str = "gold"
    code_validity_days: int = 90
    lockout_attempts: int = 5
    lockout_hours: int = 24
    inbox: Path = Path("inbox")
    #: a drop-folder file is taken once it has not changed for this long (an upload under
    #: its final name may still be running)
    settle_seconds: int = 60
    archive: Path | None = None
    quarantine: Path | None = None
    reports: Path | None = None
    outbox: Path | None = None
    #: per-account folders the drop-folder side syncs back: reports and a summary per file
    returns: Path | None = None
    limits: Limits = field(default_factory=Limits)
    smtp_url: str | None = None
    mail_from: str = "rma-intake@localhost"
    max_attachment_bytes: int = 25 * 1024 * 1024
    #: the text body of an e-mail (the claim form); a larger body is not read
    max_body_bytes: int = 2 * 1024 * 1024
    #: days within which a message with the content of an answered one is a re-delivery (a
    #: duplicate, not answered again); 0: only the same Message-ID or bytes are (rma.mail.intake)
    redelivery_days: int = 7
    #: operations on Prefect (``rma serve``, prefect.yaml, the fan-out of ``run-inbox``)
    workers: int = 4
    #: small files share a task run (at most this many files and bytes in one)
    task_group_files: int = 25
    task_group_bytes: int = 1024 * 1024
    #: worker processes for the groups of small files; None = auto (``flows.runners``)
    processes: int | None = None
    schedule_cron: str = "0 2 * * *"
    timezone: str = "UTC"
    fanout_deployment: str | None = None
    fanout_group_files: int = 20
    fanout_group_bytes: int = 64 * 1024 * 1024
    fanout_timeout_seconds: int = 6 * 3600
    #: scale and operations: the claims database pool, the chunked path, console progress
    db_pool: DbPool = field(default_factory=DbPool)
    #: rows above which a file is read and checked in chunks; by default only with a Dask
    #: cluster (RMA_DASK_ADDRESS) to spread them over: on one machine the chunks share one
    #: interpreter lock, and the extra pass over the file cost a 200k-row csv 5 s and 200 MB
    chunk_rows: int = 0
    dask_address: str | None = None
    progress: str = "auto"

    def beside_inbox(self, name: str, inbox: Path | None = None) -> Path:
        """archive/, quarantine/, reports/, outbox/, returns/ sit beside the inbox unless
        configured."""
        configured = getattr(self, name)
        if configured is not None:
            return Path(configured)
        base = Path(inbox) if inbox is not None else self.inbox
        return base.resolve().parent / name


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        from rma.errors import ConfigError

        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        from rma.errors import ConfigError

        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _non_negative(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 0:
        from rma.errors import ConfigError

        raise ConfigError(f"{name} must be 0 or more, got {value}")
    return value


def _processes(env: dict[str, str]) -> int | None:
    """RMA_PROCESSES: ``auto`` (None) or a number of processes, 0 for none."""
    raw = (env.get("RMA_PROCESSES") or "auto").strip().lower()
    if raw == "auto":
        return None
    value = _int(env, "RMA_PROCESSES", 0)
    if value < 0:
        from rma.errors import ConfigError

        raise ConfigError(f"RMA_PROCESSES must be auto or a number of processes, got {raw!r}")
    return value


def _timezone(env: dict[str, str]) -> str:
    """RMA_TIMEZONE: an IANA zone name (``Europe/Berlin``), checked here so a typo is a
    one-line configuration error rather than a schedule that never fires."""
    import zoneinfo

    name = (env.get("RMA_TIMEZONE") or "UTC").strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        from rma.errors import ConfigError

        raise ConfigError(f"RMA_TIMEZONE must be an IANA time zone such as Europe/Berlin, "
                          f"got {name!r}") from exc
    return name


def _path(env: dict[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment (``os.environ`` unless given)."""
    env = dict(os.environ if env is None else env)
    threshold = env.get("RMA_ELIGIBILITY_THRESHOLD", "gold").strip().lower()
    if threshold not in LEVELS:
        from rma.errors import ConfigError

        raise ConfigError(
            f"RMA_ELIGIBILITY_THRESHOLD must be one of {', '.join(LEVELS)}, got {threshold!r}"
        )
    dask_address = (env.get("RMA_DASK_ADDRESS") or "").strip() or None
    defaults = Limits()
    limits = Limits(
        file_bytes=_int(env, "RMA_MAX_FILE_BYTES", defaults.file_bytes),
        inflated_bytes=_int(env, "RMA_MAX_INFLATED_BYTES", defaults.inflated_bytes),
        rows=_int(env, "RMA_MAX_ROWS", defaults.rows),
        columns=_int(env, "RMA_MAX_COLUMNS", defaults.columns),
        cell_chars=_int(env, "RMA_MAX_CELL_CHARS", defaults.cell_chars),
        cells=_int(env, "RMA_MAX_CELLS", defaults.cells),
    )
    return Settings(
        database_url=env.get("RMA_DATABASE_URL") or "sqlite:///rma.db",
        eligibility_threshold=threshold,
        code_validity_days=_int(env, "RMA_CODE_VALIDITY_DAYS", 90),
        lockout_attempts=_int(env, "RMA_LOCKOUT_ATTEMPTS", 5),
        lockout_hours=_int(env, "RMA_LOCKOUT_HOURS", 24),
        inbox=Path(env.get("RMA_INBOX") or "inbox"),
        settle_seconds=_non_negative(env, "RMA_SETTLE_SECONDS", 60),
        archive=_path(env, "RMA_ARCHIVE"),
        quarantine=_path(env, "RMA_QUARANTINE"),
        reports=_path(env, "RMA_REPORTS"),
        outbox=_path(env, "RMA_OUTBOX"),
        returns=_path(env, "RMA_RETURNS"),
        limits=limits,
        smtp_url=env.get("RMA_SMTP_URL") or None,
        mail_from=env.get("RMA_MAIL_FROM") or "rma-intake@localhost",
        max_attachment_bytes=_int(env, "RMA_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024),
        max_body_bytes=_positive(env, "RMA_MAX_BODY_BYTES", 2 * 1024 * 1024),
        redelivery_days=_non_negative(env, "RMA_REDELIVERY_DAYS", 7),
        workers=_positive(env, "RMA_WORKERS", 4),
        task_group_files=_positive(env, "RMA_TASK_GROUP_FILES", 25),
        task_group_bytes=_positive(env, "RMA_TASK_GROUP_BYTES", 1024 * 1024),
        processes=_processes(env),
        schedule_cron=(env.get("RMA_SCHEDULE_CRON") or "0 2 * * *").strip(),
        timezone=_timezone(env),
        fanout_deployment=(env.get("RMA_FANOUT_DEPLOYMENT") or "").strip() or None,
        fanout_group_files=_positive(env, "RMA_FANOUT_GROUP_FILES", 20),
        fanout_group_bytes=_positive(env, "RMA_FANOUT_GROUP_BYTES", 64 * 1024 * 1024),
        fanout_timeout_seconds=_positive(env, "RMA_FANOUT_TIMEOUT_SECONDS", 6 * 3600),
        db_pool=DbPool(
            size=_positive(env, "RMA_DB_POOL_SIZE", 5),
            max_overflow=_int(env, "RMA_DB_MAX_OVERFLOW", 10),
            timeout=_positive(env, "RMA_DB_POOL_TIMEOUT", 30),
            recycle=_int(env, "RMA_DB_POOL_RECYCLE", 1800),
            connect_timeout=_positive(env, "RMA_DB_CONNECT_TIMEOUT", 10),
            keepalive_idle=_positive(env, "RMA_DB_KEEPALIVE_IDLE", 60),
        ),
        chunk_rows=_int(env, "RMA_CHUNK_ROWS", CHUNK_ROWS_ON_DASK if dask_address else 0),
        dask_address=dask_address,
        progress=_choice(env, "RMA_PROGRESS", ("auto", "bar", "plain", "off")),
    )


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed`` (the first is the default), case-insensitive."""
    value = (env.get(name) or allowed[0]).strip().lower()
    if value not in allowed:
        from rma.errors import ConfigError

        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
