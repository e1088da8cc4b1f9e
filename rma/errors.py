"""Exceptions: for what cannot be processed at all. Rejections are data, not exceptions.

    RmaError                    anything the CLI turns into a one-line message
    ├── BadClaim                a claim sent as JSON that is not one of SPEC §3 (a ValueError)
    ├── BatchError              a whole batch cannot be processed (carries a reason code)
    ├── ConfigError             wrong configuration or usage (exit status 2)
    ├── DatabaseNotReady        the database has not been created/migrated yet
    │   ├── DatabaseMissing     no database file at the SQLite path (only `db upgrade` makes it)
    │   └── DatabaseTooNew      migrated by a newer version of this program
    ├── DatabaseUnavailable     the database cannot be reached or opened
    ├── FileChanged             a drop-folder file changed after it was listed (also an OSError)
    ├── LargeFileFailed         a file's chunked run failed after its own retries
    ├── PostingConflict         a concurrent posting took a code, an SN, a ref or the file first
    ├── ReportNotWritten        a rejection report could not be written (disk full, rights)
    ├── RowError                one invalid cell of a reference file (also a ValueError)
    └── RunBusy                 another run holds the inbox lock

Outside ``RmaError``, because they never reach the user as a one-line message:

    WebAnswer                   an answer of ``rma web`` other than success, with its status
    ├── ApiError                the API's JSON error ``{"error": {"code", "message"}}``
    └── PageError               a page's error page (or, status 303, a redirect to sign in)
    NotReadable                 a path is not the regular, unchanged file it must be (an OSError)
    RunFailed                   a benchmark's measured run failed (bench/, a RuntimeError)
    UsageError                  a usage error argparse found, printed as argparse would

``code`` is what ``--json`` reports in its top-level ``error`` when a command ran nothing.
A ``WebAnswer`` never reaches the command line: ``rma web`` answers it as its status says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: no module here imports anything at run time
    import argparse


class RmaError(Exception):
    """Base of every error the user sees as one line."""

    code = "ERROR"


class BadClaim(RmaError, ValueError):
    """A claim sent as JSON that is not an object of the columns of SPEC §3."""

    code = "BAD_REQUEST"


class BatchError(RmaError):
    """The batch cannot be processed; ``code`` is a batch reason of SPEC §4."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message


class ConfigError(RmaError):
    """Wrong usage or configuration."""

    code = "CONFIG_ERROR"


class DatabaseNotReady(RmaError):
    """The claims database has no schema yet, or an older one."""

    code = "DATABASE_NOT_READY"


class DatabaseMissing(DatabaseNotReady):
    """No claims database file where the URL points: a read must not create an empty one."""

    code = "DATABASE_MISSING"


class DatabaseTooNew(DatabaseNotReady):
    """The database is at a revision this program does not know: `rma db upgrade` cannot help,
    a newer program must be installed."""

    code = "DATABASE_TOO_NEW"


class DatabaseUnavailable(RmaError):
    """The claims database cannot be reached (server down, wrong host or port, refused)."""

    code = "DATABASE_UNAVAILABLE"


class FileChanged(RmaError, OSError):
    """A drop-folder file is no longer the one that was listed and read: it is not moved."""


class ReportNotWritten(RmaError):
    """A rejection report could not be written: the batch is rolled back, the file waits."""

    code = "REPORT_NOT_WRITTEN"


class LargeFileFailed(RmaError, RuntimeError):
    """The chunked run of a file failed after its own retries (not retried again)."""

    code = "PROCESSING_ERROR"


class PostingConflict(RmaError):
    """A concurrent posting took a code, an SN, a claim_ref or the file first.

    The transaction is unusable: roll it back and process the batch again from the decision.
    """

    code = "POSTING_CONFLICT"


class RowError(RmaError, ValueError):
    """One invalid cell of a reference file; collected per file and reported together."""


class RunBusy(RmaError):
    """Another run holds the inbox: this one does nothing."""

    code = "RUN_BUSY"


class WebAnswer(Exception):
    """An answer of the portal or the API other than success, raised anywhere in a request
    and answered by the application's handlers (``rma.entrypoints.web``)."""

    def __init__(self, status: int, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.headers = dict(headers or {})


class ApiError(WebAnswer):
    """An error of the API: ``{"error": {"code": ..., "message": ...}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, message, headers)
        self.code = code


class PageError(WebAnswer):
    """An answer of the pages other than success: an error page with this status and title
    (303: a redirect to ``headers["location"]``)."""

    def __init__(self, status: int, title: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, message, headers)
        self.title = title


class NotReadable(OSError):
    """The path is not the regular, unchanged file it must be; ``why`` says so in words."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class RunFailed(RuntimeError):
    """A benchmark's measured run did not exit 0 or did not post what it should have."""


class UsageError(Exception):
    """A usage error argparse found, with the (sub)parser that found it: ``main`` prints it as
    argparse would, after ``--json`` has had its document."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
