"""``rma claims list`` and ``rma status``: what is posted, and what the runs, the inbox and
quarantine hold; as console lines or, with ``--json``, one document."""

from __future__ import annotations

import argparse
import json

from rma.entrypoints.commands.output import EXIT_OK
from rma.entrypoints.commands.runtime import ready_engine


def cmd_claims(args: argparse.Namespace) -> int:
    from rma.adapters.db.repository import ClaimsRepository

    with ready_engine() as engine, engine.connect() as conn:
        claims = ClaimsRepository(conn).list_claims(args.account)
    if args.json:
        print(json.dumps({"claims": claims}, indent=2, default=str))
        return EXIT_OK
    if not claims:
        print("No claims.")
    for c in claims:
        print(f"{c['claim_id']}  {c['account_id']:<10} {c['claim_ref'] or '-':<12} "
              f"{c['status']:<10} {', '.join(c['serial_numbers'])}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from rma.config import load_settings
    from rma.service.status import gather, render

    settings = load_settings()
    inbox = args.inbox or settings.inbox
    with ready_engine() as engine:
        status = gather(engine, inbox, settings.beside_inbox("quarantine", inbox), args.limit,
                        settings.settle_seconds, settings.beside_inbox("outbox", inbox))
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        print("\n".join(render(status)))  # names in it escaped by render
    return EXIT_OK
