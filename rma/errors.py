"""Exceptions: for what cannot be processed at all. Rejections are data, not exceptions.

    RmaError                    anything the CLI turns into a one-line message
    ├── BatchError              a whole batch cannot be processed (carries a reason code)
    ├── ConfigError             wrong configuration or usage (exit status 2)
    ├── DatabaseNotReady        the database has not been created/migrated yet
    └── ReportNotWritten        a rejection report could not be written (disk full, rights)
"""

from __future__ import annotations


class RmaError(Exception):
    """Base of every error the user sees as one line."""


class BatchError(RmaError):
    """The batch cannot be processed; ``code`` is a batch reason of SPEC §4."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message


class ConfigError(RmaError):
    """Wrong usage or configuration."""


class DatabaseNotReady(RmaError):
    """The claims database has no schema yet."""


class ReportNotWritten(RmaError):
    """A rejection report could not be written: the batch is rolled back, the file waits."""
