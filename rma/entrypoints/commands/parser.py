"""The arguments of every command of SPEC §7, a function per command (those of SPEC §9 from
``rma.entrypoints.portal_cli``), parsed without exiting on a usage error."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from rma.domain.vocabulary.columns import LABELS, PREFILL_FIELDS
from rma.entrypoints import portal_cli
from rma.errors import UsageError

#: ``add_parser`` of the subcommands: makes the parser of one command
AddParser = Callable[..., argparse.ArgumentParser]


class _Parser(argparse.ArgumentParser):
    """argparse that hands a usage error to ``main`` instead of exiting, so that ``--json``
    still gets its document; ``main`` prints the error as argparse would."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def build_parser() -> argparse.ArgumentParser:
    """``rma`` and its commands, in the order ``rma --help`` lists them."""
    parser = _Parser(prog="rma", description="RMA claim intake.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (_db, _accounts, _codes, _ingest, _run_inbox, _claims, _template, _status,
                    _demo, _serve):
        command(sub.add_parser)
    portal_cli.add_parsers(sub)  # users, tokens, web (SPEC §9)
    return parser


def _actions(add: AddParser, command: str, help: str) -> AddParser:
    """A command whose first argument is an action (``rma db upgrade``)."""
    return add(command, help=help).add_subparsers(dest="action", required=True,
                                                  metavar="ACTION").add_parser


def _db(add: AddParser) -> None:
    _actions(add, "db", "the claims database")("upgrade", help="create or migrate the database")


def _accounts(add: AddParser) -> None:
    _actions(add, "accounts", "the accounts registry")(
        "import", help="upsert accounts from CSV/XLSX").add_argument("path", type=Path)


def _codes(add: AddParser) -> None:
    action = _actions(add, "codes", "RMA codes")
    action("import", help="upsert RMA codes from CSV/XLSX").add_argument("path", type=Path)
    issue = action("issue", help="issue a new code and print it")
    issue.add_argument("--account", required=True)
    issue.add_argument("--sn", action="append", default=[], metavar="SN",
                       help="an SN the code covers (repeat; none = any SN of the account)")
    issue.add_argument("--valid-days", type=int, default=None)
    for field in PREFILL_FIELDS:
        issue.add_argument("--" + field.replace("_", "-"), dest=field, metavar="VALUE",
                           help=LABELS[field])
    action("unlock", help="lift a code lock-out").add_argument("account")


def _ingest(add: AddParser) -> None:
    ingest = add("ingest", help="ingest files or folders, one batch per file")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--account", default=None)
    ingest.add_argument("--check", action="store_true",
                        help="decide and write the reports, post nothing (status checked)")
    ingest.add_argument("--json", action="store_true")


def _run_inbox(add: AddParser) -> None:
    run = add("run-inbox", help="the nightly job: every file in the inbox")
    run.add_argument("--inbox", type=Path, default=None)
    run.add_argument("--json", action="store_true")


def _claims(add: AddParser) -> None:
    listing = _actions(add, "claims", "posted claims")("list", help="list posted claims")
    listing.add_argument("--account", default=None)
    listing.add_argument("--json", action="store_true")


def _template(add: AddParser) -> None:
    template = add("template", help="write an .xlsx claim template")
    template.add_argument("path", type=Path, help="a new .xlsx file in an existing folder")
    template.add_argument("--force", action="store_true", help="replace an existing file")


def _status(add: AddParser) -> None:
    status = add("status", help="last runs, waiting files, quarantined items")
    status.add_argument("--inbox", type=Path, default=None)
    status.add_argument("--limit", type=int, default=10, help="how many runs (default 10)")
    status.add_argument("--json", action="store_true")


def _demo(add: AddParser) -> None:
    demo = add("demo", help="run the nightly job over a fresh copy of the sample inbox, in a "
               "folder of its own on its own SQLite database")
    demo.add_argument("--dir", type=Path, default=Path("demo"),
                      help="the demo's folder (default: demo/; replaced on every run)")
    demo.add_argument("--json", action="store_true")
    demo.add_argument("--web", action="store_true",
                      help="then serve the portal on the demo's database, with a demo user of "
                      "D-001 and its sign-in link printed (until Ctrl-C)")
    demo.add_argument("--port", type=int, default=8000, help="the portal's port with --web "
                      "(default 8000, on 127.0.0.1)")


def _serve(add: AddParser) -> None:
    add("serve", help="serve the nightly deployment (cron from config)").add_argument(
        "--once", action="store_true", help="register the deployment, run it once now and exit")
