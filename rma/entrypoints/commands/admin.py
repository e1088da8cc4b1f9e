"""``rma db upgrade``, ``rma accounts import``, ``rma codes import|issue|unlock`` and
``rma template``: what an operator sets up before and beside the nightly runs."""

from __future__ import annotations

import argparse

from rma.domain.vocabulary.columns import PREFILL_FIELDS
from rma.entrypoints.commands.output import EXIT_OK
from rma.entrypoints.commands.runtime import ready_engine


def cmd_db(args: argparse.Namespace) -> int:
    from rma.adapters.db.engine import upgrade
    from rma.config import load_settings

    url = load_settings().database_url
    upgrade(url)
    print(f"Database is up to date ({_safe_url(url)}).")
    return EXIT_OK


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def cmd_accounts(args: argparse.Namespace) -> int:
    from rma.adapters.db.engine import posting_transaction
    from rma.adapters.db.reference_accounts import import_accounts

    with ready_engine() as engine, posting_transaction(engine) as conn:
        result = import_accounts(conn, args.path)
    print(f"{args.path.name}: accounts imported, {result}")
    return EXIT_OK


def cmd_codes(args: argparse.Namespace) -> int:
    from rma.adapters.db.engine import posting_transaction
    from rma.adapters.db.reference_codes import import_codes
    from rma.config import load_settings
    from rma.service.codes import issue_code, unlock

    settings = load_settings()
    with ready_engine() as engine:
        if args.action == "import":
            with posting_transaction(engine) as conn:
                imported = import_codes(conn, args.path,
                                        validity_days=settings.code_validity_days)
            print(f"{args.path.name}: RMA codes imported, {imported}")
        elif args.action == "issue":
            fields = {f: getattr(args, f) for f in PREFILL_FIELDS if getattr(args, f)}
            print(issue_code(engine, settings, args.account, args.sn, fields, args.valid_days))
        else:
            unlock(engine, args.account)
            print(f"Code lock-out lifted for {args.account}.")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from rma.adapters.reports.template import write_template
    from rma.config import load_settings

    threshold = load_settings().eligibility_threshold
    written = write_template(args.path, threshold=threshold, force=args.force)
    print(f"Claim template written to {written}")
    return EXIT_OK
