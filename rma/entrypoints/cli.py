"""The command line of SPEC §7. Exit status: 0 every batch processed, 1 a batch could not
be processed (or another error), 2 wrong usage, 130 / 143 a run stopped by SIGINT / SIGTERM
(``rma.service.stopping``). Errors are one line, never a traceback.

``--json`` prints one JSON document on stdout whatever happens: when the command ran nothing
(database down or not migrated, wrong configuration, the inbox busy), it is the command's
document with its lists empty and a top-level ``error``: ``{"code": ..., "message": ...}``,
the same message as the line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rma.domain.vocabulary.columns import LABELS, PREFILL_FIELDS
from rma.errors import ConfigError, RmaError

if TYPE_CHECKING:
    from rma.domain.vocabulary.results import Batches

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CLAIM_SUFFIXES = (".xlsx", ".xlsm", ".csv")


def _prefect_defaults() -> None:
    """Quiet, robust Prefect defaults for command-line runs (the user's settings win)."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # the console shows our one-line results; Prefect's tracebacks go to its API and UI
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # our own loggers (rma.security: code guessing) go to the flow run's logs as well
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "rma")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


class _UsageError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse that hands a usage error to ``main`` instead of exiting, so that ``--json``
    still gets its document; ``main`` prints the error as argparse would."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(self, message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rma", description="RMA claim intake.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="the claims database").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    db.add_parser("upgrade", help="create or migrate the database")

    accounts = sub.add_parser("accounts", help="the accounts registry").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    accounts.add_parser("import", help="upsert accounts from CSV/XLSX").add_argument(
        "path", type=Path)

    codes = sub.add_parser("codes", help="RMA codes").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    codes.add_parser("import", help="upsert RMA codes from CSV/XLSX").add_argument(
        "path", type=Path)
    issue = codes.add_parser("issue", help="issue a new code and print it")
    issue.add_argument("--account", required=True)
    issue.add_argument("--sn", action="append", default=[], metavar="SN",
                       help="an SN the code covers (repeat; none = any SN of the account)")
    issue.add_argument("--valid-days", type=int, default=None)
    for field in PREFILL_FIELDS:
        issue.add_argument("--" + field.replace("_", "-"), dest=field, metavar="VALUE",
                           help=LABELS[field])
    codes.add_parser("unlock", help="lift a code lock-out").add_argument("account")

    ingest = sub.add_parser("ingest", help="ingest files or folders, one batch per file")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--account", default=None)
    ingest.add_argument("--json", action="store_true")

    run = sub.add_parser("run-inbox", help="the nightly job: every file in the inbox")
    run.add_argument("--inbox", type=Path, default=None)
    run.add_argument("--json", action="store_true")

    claims = sub.add_parser("claims", help="posted claims").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    listing = claims.add_parser("list", help="list posted claims")
    listing.add_argument("--account", default=None)
    listing.add_argument("--json", action="store_true")

    template = sub.add_parser("template", help="write an .xlsx claim template")
    template.add_argument("path", type=Path, help="a new .xlsx file in an existing folder")
    template.add_argument("--force", action="store_true", help="replace an existing file")

    status = sub.add_parser("status", help="last runs, waiting files, quarantined items")
    status.add_argument("--inbox", type=Path, default=None)
    status.add_argument("--limit", type=int, default=10, help="how many runs (default 10)")
    status.add_argument("--json", action="store_true")

    demo = sub.add_parser("demo", help="run the nightly job over a fresh copy of the sample "
                          "inbox, in a folder of its own on its own SQLite database")
    demo.add_argument("--dir", type=Path, default=Path("demo"),
                      help="the demo's folder (default: demo/; replaced on every run)")
    demo.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="serve the nightly deployment (cron from config)")
    serve.add_argument("--once", action="store_true",
                       help="register the deployment, run it once now and exit")
    return p


def _engine():
    from rma.adapters.db.engine import ensure_ready, make_engine
    from rma.config import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, settings.db_pool)
    ensure_ready(engine)
    return engine


def _progress(as_json: bool):
    """Console progress of a flow run (``rma.service.progress``): never with --json (stdout is the
    JSON document), else RMA_PROGRESS (auto: a bar on a terminal, plain lines otherwise)."""
    from rma.config import load_settings
    from rma.entrypoints.progress import showing

    return showing("off" if as_json else load_settings().progress)


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


def _print_batches(batches: Sequence[dict[str, Any]], as_json: bool,
                   error: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> int:
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


def _run_stoppable(flow: Any, *args: Any) -> Batches:
    """Run a flow so that SIGINT/SIGTERM stop it gracefully (``rma.service.stopping``): the first
    signal lets the batches in progress finish and takes nothing new, a second aborts."""
    from rma.service import stopping

    with stopping.handling():
        return stopping.run_in_thread(flow, *args)


def _stopped(batches: Sequence[dict[str, Any]], as_json: bool) -> int | None:
    """After a graceful stop: the batches done, one line saying so, and 130 (SIGINT) or 143
    (SIGTERM); None when no signal came."""
    from rma.service import stopping

    signum = stopping.signal_received()
    if signum is None:
        return None
    message = (f"interrupted by {signal.Signals(signum).name}: {len(batches)} batch(es) "
               "done; the files and e-mails not taken wait for the next run")
    _print_batches(batches, as_json, {"code": "INTERRUPTED", "message": message})
    print(f"rma: {message}", file=sys.stderr)
    return stopping.exit_status()


def cmd_ingest(args: argparse.Namespace) -> int:
    from rma.adapters.inbox.folders import account_folder_of
    from rma.config import load_settings

    files = _expand(args.paths)
    _engine().dispose()  # fail fast with a clear message when the database is not ready
    inbox = load_settings().inbox
    accounts = [args.account or account_folder_of(f, inbox) for f in files]
    _prefect_defaults()
    from flows.ingest import ingest_many

    with _progress(args.json):
        batches = _run_stoppable(ingest_many, [str(f) for f in files], accounts) \
            if files else []
    stopped = _stopped(batches, args.json)
    return stopped if stopped is not None else _print_batches(batches, args.json)


def cmd_run_inbox(args: argparse.Namespace) -> int:
    from rma.config import load_settings

    settings = load_settings()
    inbox = args.inbox or settings.inbox
    if not inbox.is_dir():
        raise ConfigError(f"{inbox}: the inbox folder does not exist")
    if settings.smtp_url:
        from rma.adapters.mail.smtp import SmtpTarget

        SmtpTarget.from_url(settings.smtp_url)  # a wrong RMA_SMTP_URL is a usage error
    _engine().dispose()
    _prefect_defaults()
    from flows.ingest import run_inbox

    with _progress(args.json):
        batches = _run_stoppable(run_inbox, str(inbox))
    stopped = _stopped(batches, args.json)
    if stopped is not None:
        return stopped
    from rma.adapters.mail.outbox import refused_replies

    outbox = settings.beside_inbox("outbox", inbox)
    refused = refused_replies(outbox)
    # what the server refused for good stays listed until a person deals with it (only then:
    # a run with nothing refused prints the same document as before); it is not a failed
    # batch, so the exit status still says whether every batch was processed
    status = _print_batches(batches, args.json,
                            extra={"outbox_refused": refused} if refused else None)
    waiting = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    if waiting and not args.json:
        how = "SMTP failed; the next run retries" if settings.smtp_url else "no RMA_SMTP_URL"
        print(f"{len(waiting)} e-mail repl(y/ies) waiting in {outbox} ({how}).")
    if refused and not args.json:
        print(f"{len(refused)} e-mail repl(y/ies) refused permanently by the SMTP server, in "
              f"{outbox / 'refused'}: the .error.txt beside each says why and what to do "
              "(rma status lists them).")
    if not args.json:
        from rma.adapters.inbox.folders import scan

        unsettled = scan(inbox, settings.settle_seconds).unsettled
        if unsettled:
            print(f"{len(unsettled)} file(s) changed in the last {settings.settle_seconds} s "
                  "(RMA_SETTLE_SECONDS) wait for the next run (rma status lists them).")
    return status


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
    from rma.adapters.db.reference import import_accounts

    with posting_transaction(_engine()) as conn:
        result = import_accounts(conn, args.path)
    print(f"{args.path.name}: accounts imported, {result}")
    return EXIT_OK


def cmd_codes(args: argparse.Namespace) -> int:
    from rma.adapters.db.engine import posting_transaction
    from rma.adapters.db.reference import import_codes, issue_code, unlock_codes
    from rma.config import load_settings

    with posting_transaction(_engine()) as conn:
        if args.action == "import":
            days = load_settings().code_validity_days
            print(f"{args.path.name}: RMA codes imported, "
                  f"{import_codes(conn, args.path, validity_days=days)}")
        elif args.action == "issue":
            fields = {f: getattr(args, f) for f in PREFILL_FIELDS if getattr(args, f)}
            days = args.valid_days or load_settings().code_validity_days
            print(issue_code(conn, args.account, args.sn, fields, days))
        else:
            unlock_codes(conn, args.account)
            print(f"Code lock-out lifted for {args.account}.")
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    from rma.adapters.db.repository import ClaimsRepository

    with _engine().connect() as conn:
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
    engine = _engine()
    try:
        status = gather(engine, inbox, settings.beside_inbox("quarantine", inbox), args.limit,
                        settings.settle_seconds, settings.beside_inbox("outbox", inbox))
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        print("\n".join(render(status)))  # names in it escaped by render
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the nightly deployment on the Prefect server of PREFECT_API_URL (a temporary
    local API would take the schedule with it when the process ends)."""
    from rma.config import load_settings

    settings = load_settings()
    if not settings.inbox.is_dir():
        raise ConfigError(f"{settings.inbox}: the inbox folder does not exist (RMA_INBOX)")
    _engine().dispose()
    _prefect_defaults()
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise ConfigError("rma serve needs a Prefect server: set PREFECT_API_URL "
                          "(e.g. http://127.0.0.1:4200/api for `prefect server start`)")
    from flows.serve import DEPLOYMENT, nightly_options, run_nightly_once, serve_nightly

    nightly_options(settings)  # a wrong cron is a usage error before anything starts
    if args.once:
        run = run_nightly_once(settings)
        state = run.state
        assert state is not None
        detail = f" ({state.message})" if state.message and not state.is_completed() else ""
        print(f"{DEPLOYMENT}: flow run {run.name} {state.name}{detail}.")
        return EXIT_OK if state.is_completed() else EXIT_FAILED
    print(f"Serving {DEPLOYMENT} on {PREFECT_API_URL.value()}: cron "
          f"{settings.schedule_cron!r} ({settings.timezone}), one run at a time, inbox "
          f"{settings.inbox}. Stop with Ctrl-C or SIGTERM.", flush=True)
    from contextlib import suppress

    with suppress(KeyboardInterrupt):  # Ctrl-C is how a person stops serving
        serve_nightly(settings)
    print(f"Stopped serving {DEPLOYMENT} (its schedule is paused until served again).")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from rma.adapters.reports.template import write_template
    from rma.config import load_settings

    threshold = load_settings().eligibility_threshold
    written = write_template(args.path, threshold=threshold, force=args.force)
    print(f"Claim template written to {written}")
    return EXIT_OK


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
    try:
        for argv in (["db", "upgrade"], ["accounts", "import", str(accounts)],
                     ["codes", "import", str(codes)]):
            step = _parser().parse_args(argv)
            with contextlib.redirect_stdout(sys.stderr) if args.json else nullcontext():
                COMMANDS[step.command](step)
        status = cmd_run_inbox(_parser().parse_args(
            ["run-inbox", "--inbox", str(inbox)] + (["--json"] if args.json else [])))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if not args.json:
        print(f"The demo ran in {folder}/: reports in {folder}/reports, processed files in "
              f"{folder}/archive, the e-mail reply in {folder}/outbox. `rma demo` again "
              "starts it afresh.")
    return status


COMMANDS = {
    "ingest": cmd_ingest, "run-inbox": cmd_run_inbox, "db": cmd_db,
    "accounts": cmd_accounts, "codes": cmd_codes, "claims": cmd_claims,
    "template": cmd_template, "status": cmd_status, "serve": cmd_serve, "demo": cmd_demo,
}


def _empty_document(command: str | None) -> dict[str, Any]:
    """The ``--json`` document of a command that ran nothing: its lists, empty."""
    if command == "claims":
        return {"claims": []}
    if command == "status":
        return {"runs": [], "waiting": {"files": [], "mail": []}, "quarantined": []}
    return {"batches": []}


def _print_error_document(command: str | None, code: str, message: str) -> None:
    document = {**_empty_document(command), "error": {"code": code, "message": message}}
    print(json.dumps(document, indent=2))


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
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc}", file=sys.stderr)
        if "--json" in argv:  # what was asked for, as far as it can be told
            _print_error_document(next((a for a in argv if a in COMMANDS), None), "USAGE",
                                  f"{exc.parser.prog}: {exc}")
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (Exception, KeyboardInterrupt) as exc:  # the last line of defence: never a traceback
        status, code, message = _failure(exc)
        print(f"rma: {message}", file=sys.stderr)
        if getattr(args, "json", False):
            _print_error_document(args.command, code, message)
        return status


if __name__ == "__main__":
    sys.exit(main())
