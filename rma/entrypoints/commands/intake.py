"""``rma ingest``, ``rma run-inbox`` and ``rma demo`` (the Quick start: run-inbox over the
sample): each runs a flow, shows its progress, prints its batches, and stops gracefully on
SIGINT/SIGTERM; ``rma ingest --check`` decides and reports without a flow run."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rma.entrypoints.commands.admin import cmd_accounts, cmd_codes, cmd_db
from rma.entrypoints.commands.output import print_batches
from rma.entrypoints.commands.parser import build_parser
from rma.entrypoints.commands.runtime import (
    check_database,
    progress,
    ready_engine,
    run_stoppable,
    stopped,
)
from rma.entrypoints.prefect_env import prefect_defaults
from rma.errors import ConfigError

if TYPE_CHECKING:
    from rma.config import Settings


def _expand(paths: Sequence[Path]) -> list[Path]:
    """Files as named (a link named here is followed on purpose: its target is ingested);
    folders give every entry below them that is not hidden or partial — a link, pipe or
    device found there is not followed or opened but reported as a failed batch."""
    from rma.adapters.inbox.folders import is_upload_name

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if is_upload_name(p.name)
                                and (p.is_symlink() or not p.is_dir())))
        elif path.exists():
            files.append(path.resolve() if path.is_symlink() else path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    return files


def cmd_ingest(args: argparse.Namespace) -> int:
    from rma.adapters.inbox.folders import account_folder_of
    from rma.config import load_settings

    files = _expand(args.paths)
    inbox = load_settings().inbox
    accounts = [args.account or account_folder_of(f, inbox) for f in files]
    if args.check:  # posts nothing, so it is no flow run: a quick answer (SPEC §9)
        from rma.service.checks import check_files

        with ready_engine() as engine:
            checked = check_files(files, accounts, engine, load_settings())
        return print_batches([r.to_json() for r in checked], args.json)
    check_database()  # fails fast with a clear message when the database is not ready
    prefect_defaults()
    from flows.ingest import ingest_many

    with progress(args.json):
        batches = run_stoppable(ingest_many, [str(f) for f in files], accounts) \
            if files else []
    status = stopped(batches, args.json)
    return status if status is not None else print_batches(batches, args.json)


def cmd_run_inbox(args: argparse.Namespace) -> int:
    from rma.config import load_settings

    settings = load_settings()
    inbox = args.inbox or settings.inbox
    if not inbox.is_dir():
        raise ConfigError(f"{inbox}: the inbox folder does not exist")
    if settings.smtp_url:
        from rma.adapters.mail.smtp import SmtpTarget

        SmtpTarget.from_url(settings.smtp_url)  # a wrong RMA_SMTP_URL is a usage error
    check_database()
    prefect_defaults()
    from flows.ingest import run_inbox

    with progress(args.json):
        batches = run_stoppable(run_inbox, str(inbox))
    status = stopped(batches, args.json)
    if status is not None:
        return status
    from rma.adapters.mail.outbox import refused_replies

    outbox = settings.beside_inbox("outbox", inbox)
    refused = refused_replies(outbox)
    # what the server refused for good stays listed until a person deals with it (only then:
    # a run with nothing refused prints the same document as before); it is not a failed
    # batch, so the exit status still says whether every batch was processed
    status = print_batches(batches, args.json,
                           extra={"outbox_refused": refused} if refused else None)
    if not args.json:
        _what_waits(inbox, outbox, refused, settings)
    return status


def _what_waits(inbox: Path, outbox: Path, refused: list[dict[str, str]],
                settings: Settings) -> None:
    """After the batches, on the console: the replies waiting in or refused from the outbox,
    and the files that have not settled yet."""
    from rma.adapters.inbox.folders import scan

    waiting = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    if waiting:
        how = "SMTP failed; the next run retries" if settings.smtp_url else "no RMA_SMTP_URL"
        print(f"{len(waiting)} e-mail repl(y/ies) waiting in {outbox} ({how}).")
    if refused:
        print(f"{len(refused)} e-mail repl(y/ies) refused permanently by the SMTP server, in "
              f"{outbox / 'refused'}: the .error.txt beside each says why and what to do "
              "(rma status lists them).")
    unsettled = scan(inbox, settings.settle_seconds).unsettled
    if unsettled:
        print(f"{len(unsettled)} file(s) changed in the last {settings.settle_seconds} s "
              "(RMA_SETTLE_SECONDS) wait for the next run (rma status lists them).")


def cmd_demo(args: argparse.Namespace) -> int:
    """The Quick start: the sample inbox in ``--dir`` (never the repository's ``inbox/``), the
    embedded default database there, then the same commands an operator runs."""
    from rma.entrypoints.demo import prepare_demo

    folder = args.dir
    if "flows.engines" in sys.modules:  # an earlier demo of this process: its database is gone
        sys.modules["flows.engines"].forget_engines()
    inbox, accounts, codes = prepare_demo(folder)
    saved = dict(os.environ)
    # the demo runs on the embedded defaults: no setting of a real installation reaches it
    for name in [n for n in os.environ if n.startswith("RMA_")]:
        del os.environ[name]
    os.environ.update(RMA_DATABASE_URL=f"sqlite:///{folder / 'rma.db'}", RMA_INBOX=str(inbox),
                      RMA_SETTLE_SECONDS="0")  # the sample was written a moment ago
    if args.web:  # the sign-in link points at the portal served below
        os.environ["RMA_PORTAL_URL"] = f"http://{DEMO_HOST}:{args.port}"
    parse = build_parser().parse_args
    try:
        for command, argv in ((cmd_db, ["db", "upgrade"]),
                              (cmd_accounts, ["accounts", "import", str(accounts)]),
                              (cmd_codes, ["codes", "import", str(codes)])):
            with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
                command(parse(argv))
        status = cmd_run_inbox(parse(
            ["run-inbox", "--inbox", str(inbox)] + (["--json"] if args.json else [])))
        if not args.json:
            print(f"The demo ran in {folder}/: reports in {folder}/reports, processed files "
                  f"in {folder}/archive, the e-mail reply in {folder}/outbox. `rma demo` "
                  "again starts it afresh.")
        if args.web:
            _demo_portal(args.port, sys.stderr if args.json else sys.stdout)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return status


#: the portal of ``rma demo --web``: this machine only, and the sample's distributor
DEMO_HOST = "127.0.0.1"
DEMO_USER = ("D-001", "claims@solar-distribution.example")


def _demo_portal(port: int, out: TextIO) -> None:
    """A demo user and its one-time sign-in link, then the portal on the demo's database until
    stopped (the environment is still the demo's: the portal reads its settings from it)."""
    from rma.config import load_settings
    from rma.entrypoints.web.server import serve
    from rma.service.identity import add_user

    account, email = DEMO_USER
    with ready_engine() as engine:
        invitation = add_user(engine, load_settings(), account, email)
    print(f"The portal of the demo: http://{DEMO_HOST}:{port}/ . Sign in as {email} "
          f"({account}) with this link (valid once, until {invitation.expires_at:%H:%M} UTC); "
          "stop with Ctrl-C:", file=out)
    print(invitation.url, file=out, flush=True)
    serve(DEMO_HOST, port)
