"""The command line of SPEC §7. Exit status: 0 every batch processed, 1 a batch could not
be processed (or another error), 2 wrong usage, 130 / 143 a run stopped by SIGINT / SIGTERM
(``rma.service.stopping``). Errors are one line, never a traceback.

``--json`` prints one JSON document on stdout whatever happens: when the command ran nothing
(database down or not migrated, wrong configuration, the inbox busy), it is the command's
document with its lists empty and a top-level ``error``: ``{"code": ..., "message": ...}``,
the same message as the line on stderr.

The commands' handlers are in ``rma.entrypoints.commands`` (those of SPEC §9 in
``rma.entrypoints.portal_cli``); this module dispatches to them
and turns whatever stops a command into its exit status and one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from rma.entrypoints import portal_cli
from rma.entrypoints.commands.admin import cmd_accounts, cmd_codes, cmd_db, cmd_template
from rma.entrypoints.commands.intake import cmd_demo, cmd_ingest, cmd_run_inbox
from rma.entrypoints.commands.output import EXIT_FAILED, EXIT_USAGE, print_error_document
from rma.entrypoints.commands.parser import build_parser
from rma.entrypoints.commands.runtime import ready_engine
from rma.entrypoints.commands.serving import cmd_serve
from rma.entrypoints.commands.views import cmd_claims, cmd_status
from rma.errors import ConfigError, RmaError, UsageError

Command = Callable[[argparse.Namespace], int]


def _with_engine(command: portal_cli.PortalCommand) -> Command:
    """A portal command given the CLI's way of opening the claims database."""
    return lambda args: command(args, ready_engine)


COMMANDS: dict[str, Command] = {
    "ingest": cmd_ingest, "run-inbox": cmd_run_inbox, "db": cmd_db,
    "accounts": cmd_accounts, "codes": cmd_codes, "claims": cmd_claims,
    "template": cmd_template, "status": cmd_status, "serve": cmd_serve, "demo": cmd_demo,
    **{name: _with_engine(command) for name, command in portal_cli.COMMANDS.items()},
}


def _failure(exc: BaseException) -> tuple[int, str, str]:
    """Exit status, ``--json`` error code and one-line message of what stopped a command."""
    if isinstance(exc, ConfigError):
        return EXIT_USAGE, exc.code, str(exc)
    if isinstance(exc, RmaError):
        return EXIT_FAILED, exc.code, str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_FAILED, "INTERRUPTED", "interrupted"
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return EXIT_FAILED, "DATABASE_ERROR", (f"database error: {exc.__class__.__name__}: "
                                               f"{str(exc).splitlines()[0]}")
    return EXIT_FAILED, "UNEXPECTED_ERROR", f"unexpected error: {exc.__class__.__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc}", file=sys.stderr)
        if "--json" in argv:  # what was asked for, as far as it can be told
            print_error_document(next((a for a in argv if a in COMMANDS), None), "USAGE",
                                 f"{exc.parser.prog}: {exc}")
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (Exception, KeyboardInterrupt) as exc:  # the last line of defence: never a traceback
        status, code, message = _failure(exc)
        print(f"rma: {message}", file=sys.stderr)
        if getattr(args, "json", False):
            print_error_document(args.command, code, message)
        return status


if __name__ == "__main__":
    sys.exit(main())
