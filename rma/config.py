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


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///rma.db"
    eligibility_threshold: str = "gold"
    code_validity_days: int = 90
    lockout_attempts: int = 5
    lockout_hours: int = 24
    inbox: Path = Path("inbox")
    archive: Path | None = None
    quarantine: Path | None = None
    reports: Path | None = None
    outbox: Path | None = None
    limits: Limits = field(default_factory=Limits)
    smtp_url: str | None = None
    mail_from: str = "rma-intake@localhost"
    max_attachment_bytes: int = 25 * 1024 * 1024

    def beside_inbox(self, name: str, inbox: Path | None = None) -> Path:
        """archive/, quarantine/, reports/, outbox/ sit beside the inbox unless configured."""
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
    defaults = Limits()
    limits = Limits(
        file_bytes=_int(env, "RMA_MAX_FILE_BYTES", defaults.file_bytes),
        inflated_bytes=_int(env, "RMA_MAX_INFLATED_BYTES", defaults.inflated_bytes),
        rows=_int(env, "RMA_MAX_ROWS", defaults.rows),
        columns=_int(env, "RMA_MAX_COLUMNS", defaults.columns),
        cell_chars=_int(env, "RMA_MAX_CELL_CHARS", defaults.cell_chars),
    )
    return Settings(
        database_url=env.get("RMA_DATABASE_URL") or "sqlite:///rma.db",
        eligibility_threshold=threshold,
        code_validity_days=_int(env, "RMA_CODE_VALIDITY_DAYS", 90),
        lockout_attempts=_int(env, "RMA_LOCKOUT_ATTEMPTS", 5),
        lockout_hours=_int(env, "RMA_LOCKOUT_HOURS", 24),
        inbox=Path(env.get("RMA_INBOX") or "inbox"),
        archive=_path(env, "RMA_ARCHIVE"),
        quarantine=_path(env, "RMA_QUARANTINE"),
        reports=_path(env, "RMA_REPORTS"),
        outbox=_path(env, "RMA_OUTBOX"),
        limits=limits,
        smtp_url=env.get("RMA_SMTP_URL") or None,
        mail_from=env.get("RMA_MAIL_FROM") or "rma-intake@localhost",
        max_attachment_bytes=_int(env, "RMA_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024),
    )
