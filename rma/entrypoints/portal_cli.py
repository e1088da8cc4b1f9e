"""The commands of SPEC §9 beside the CLI of SPEC §7 (``rma.entrypoints.cli`` dispatches them):

    rma users add --account ID --email ADDR [--role partner|staff] [--json]
    rma tokens create --account ID --name NAME [--json]
    rma tokens revoke --account ID --name NAME [--json]
    rma web [--host 127.0.0.1] [--port 8000] [--workers N]

Imports stay inside the commands, as in the CLI: ``rma --help`` stays quick.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

#: the claims database for the length of one command (the CLI's ``ready_engine``: disposed after)
EngineFactory = Callable[[], AbstractContextManager["sa.Engine"]]

#: the ``--json`` document of a command that did nothing (the CLI adds its ``error``)
EMPTY_DOCUMENTS: dict[str, dict[str, Any]] = {"users": {"user": None},
                                              "tokens": {"token": None}}


def add_parsers(sub: Any) -> None:
    users = sub.add_parser("users", help="portal users").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    add = users.add_parser("add", help="add a portal user and print a one-time sign-in link")
    add.add_argument("--account", required=True)
    add.add_argument("--email", required=True, help="where the sign-in link is mailed")
    add.add_argument("--role", choices=("partner", "staff"), default=None,
                     help="partner (default for a new user) or staff")
    add.add_argument("--json", action="store_true")

    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    for action, words in (("create", "create an API token and print it once"),
                          ("revoke", "revoke an API token")):
        parser = tokens.add_parser(action, help=words)
        parser.add_argument("--account", required=True)
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument("--json", action="store_true")

    web = sub.add_parser("web", help="serve the partner portal and the HTTP API (uvicorn)")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--workers", type=int, default=1,
                     help="worker processes (they share the claims database's state)")


def _print(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2, default=str))


def cmd_users(args: argparse.Namespace, engine: EngineFactory) -> int:
    from rma.config import load_settings
    from rma.service.identity import add_user

    with engine() as db:
        invitation = add_user(db, load_settings(), args.account, args.email, args.role)
    if args.json:
        _print(invitation.to_json())
        return 0
    user = invitation.user
    what = "added" if invitation.created else "already a user; a new link was made"
    where = "mailed" if invitation.mail_sent else f"queued in {invitation.mail.parent}"
    print(f"{user.email} ({user.role} of {user.account_id}): {what}. Sign-in link, valid once "
          f"until {invitation.expires_at:%Y-%m-%d %H:%M} UTC ({where}):")
    print(invitation.url)
    return 0


def cmd_tokens(args: argparse.Namespace, engine: EngineFactory) -> int:
    from rma.service.identity import create_token, revoke_token

    document: dict[str, Any] = {"account_id": args.account, "name": args.name.strip()}
    with engine() as db:
        if args.action == "create":
            document["token"] = create_token(db, args.account, args.name)
            line = document["token"]  # shown once: only its digest is kept
        else:
            revoke_token(db, args.account, args.name)
            document["revoked"] = True
            line = f"Token {document['name']!r} of {args.account} revoked."
    if args.json:
        _print({"token": document})
    else:
        print(line)
    return 0


def cmd_web(args: argparse.Namespace, engine: EngineFactory) -> int:
    from rma.errors import ConfigError

    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    with engine():  # a database that is not ready is one line now, not a failing page
        pass
    from rma.entrypoints.web.server import serve

    serve(args.host, args.port, args.workers)
    return 0


PortalCommand = Callable[[argparse.Namespace, EngineFactory], int]

COMMANDS: dict[str, PortalCommand] = {
    "users": cmd_users, "tokens": cmd_tokens, "web": cmd_web}
