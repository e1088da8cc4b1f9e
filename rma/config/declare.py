"""How a setting is declared: its environment variable, parser, default, one line of help and
its section (what a user sets, or a tuning knob). ``setting()`` makes the declaration the
dataclass field itself, so the default is written once for ``Settings``, ``load_settings``
and docs/configuration.md."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rma.errors import ConfigError

#: a parser takes the variable's name and its value (never blank) and returns the setting
Parser = Callable[[str, str], Any]


@dataclass(frozen=True)
class Section:
    title: str
    user: bool  # True: a user sets it for the deployment; False: a tuning knob


DATABASE = Section("Database", True)
FOLDERS = Section("Inbox and folders", True)
MAIL = Section("E-mail: SMTP and sender", True)
SCHEDULE = Section("Schedule and time zone", True)
CLAIMS = Section("Eligibility, lock-out and code validity", True)
SHAPE = Section("The deployment's shape", True)
PORTAL = Section("Portal and API (`rma web`)", True)
FILES = Section("Limits of untrusted files and mail", False)
RUNS = Section("Runs and task groups", False)
POOL = Section("Database connection pool (PostgreSQL; SQLite ignores it)", False)
CONSOLE = Section("Console", False)
SECTIONS = (DATABASE, FOLDERS, MAIL, SCHEDULE, CLAIMS, SHAPE, PORTAL, FILES, RUNS, POOL,
            CONSOLE)


@dataclass(frozen=True)
class Setting:
    env: str
    default: Any
    parse: Parser
    section: Section
    help: str
    shown: str | None = None  # the default as the reference writes it, when not the value

    def read(self, env: Mapping[str, str]) -> Any:
        """The value in ``env``; unset or blank is the default."""
        raw = env.get(self.env)
        return self.default if raw is None or not raw.strip() else self.parse(self.env, raw)


def setting(env: str, default: Any, parse: Parser, section: Section, help: str,
            shown: str | None = None) -> Any:
    """A dataclass field declared as the setting ``env``."""
    return field(default=default,
                 metadata={"setting": Setting(env, default, parse, section, help, shown)})


def _plain(convert: Callable[[str], Any]) -> Parser:
    return lambda name, raw: convert(raw)


text, stripped, path = _plain(str), _plain(str.strip), _plain(Path)


def whole(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _minimum(low: int, words: str) -> Parser:
    def parse(name: str, raw: str) -> int:
        value = whole(name, raw)
        if value < low:
            raise ConfigError(f"{name} must be {words}, got {value}")
        return value
    return parse


positive, non_negative = _minimum(1, "at least 1"), _minimum(0, "0 or more")


@dataclass(frozen=True)
class Choice:
    """One of ``allowed``, case-insensitive."""

    allowed: tuple[str, ...]

    def __call__(self, name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in self.allowed:
            raise ConfigError(f"{name} must be one of {', '.join(self.allowed)}, got {value!r}")
        return value


def auto_or_count(name: str, raw: str) -> int | None:
    """``auto`` (None) or a number of processes, 0 for none."""
    value = raw.strip().lower()
    if value == "auto":
        return None
    count = whole(name, raw)
    if count < 0:
        raise ConfigError(f"{name} must be auto or a number of processes, got {value!r}")
    return count


def iana_zone(name: str, raw: str) -> str:
    """An IANA zone name (``Europe/Berlin``), checked here so a typo is a one-line
    configuration error rather than a schedule that never fires."""
    zone = raw.strip()
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{name} must be an IANA time zone such as Europe/Berlin, "
                          f"got {zone!r}") from exc
    return zone


@dataclass(frozen=True)
class Rate:
    """At most ``count`` in a fixed window of ``seconds`` (a rate limit)."""

    count: int
    seconds: int

    def __str__(self) -> str:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"{self.count}/{self.seconds // size}{unit}"
        return f"{self.count}/{self.seconds}s"


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate(name: str, raw: str) -> Rate:
    """``COUNT/PERIOD``, the period in s, m, h or d: ``10/15m`` is ten per quarter hour."""
    match = _RATE.match(raw)
    if match is None or int(match[1]) < 1 or int(match[2]) < 1:
        raise ConfigError(f"{name} must be a count per period such as 10/15m or 60/1h "
                          f"(at least 1 per at least 1 s), got {raw!r}")
    return Rate(int(match[1]), int(match[2]) * _UNIT_SECONDS[match[3].lower()])
