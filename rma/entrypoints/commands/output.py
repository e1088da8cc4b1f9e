"""What the commands print: the exit statuses, a run's batches as one JSON document or as
console lines, and the ``--json`` document of a command that ran nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rma.entrypoints import portal_cli

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def print_batches(batches: Sequence[dict[str, Any]], as_json: bool,
                  error: dict[str, str] | None = None,
                  extra: dict[str, Any] | None = None) -> int:
    """The batches of SPEC §7 (``--json``: one document, with ``error`` and ``extra`` keys
    when given), or a line each and their totals; EXIT_FAILED when a batch failed."""
    from rma.domain.vocabulary.results import BatchResult

    if as_json:
        document: dict[str, Any] = {"batches": list(batches), **(extra or {})}
        if error:
            document["error"] = error
        print(json.dumps(document, indent=2, default=str))
    else:
        if not batches:
            print("Nothing waiting.")
        for b in batches:
            print(BatchResult(**b).line())
        accepted = sum(b["claims_accepted"] for b in batches)
        rejected = sum(b["claims_rejected"] for b in batches)
        failed = sum(b["status"] == "failed" for b in batches)
        if batches:
            print(f"{len(batches)} batch(es): {accepted} claims accepted, {rejected} rejected, "
                  f"{failed} batch(es) failed.")
    return EXIT_FAILED if any(b["status"] == "failed" for b in batches) else EXIT_OK


def _empty_document(command: str | None) -> dict[str, Any]:
    """The ``--json`` document of a command that ran nothing: its lists, empty."""
    if command == "claims":
        return {"claims": []}
    if command == "status":
        return {"runs": [], "waiting": {"files": [], "mail": []}, "quarantined": []}
    if command in portal_cli.EMPTY_DOCUMENTS:
        return dict(portal_cli.EMPTY_DOCUMENTS[command])
    return {"batches": []}


def print_error_document(command: str | None, code: str, message: str) -> None:
    """The command's ``--json`` document with its lists empty and the top-level ``error``."""
    document = {**_empty_document(command), "error": {"code": code, "message": message}}
    print(json.dumps(document, indent=2))
