"""The handlers of ``rma``'s commands (``rma.entrypoints.cli`` dispatches to them), a module
per group: ``admin`` (database, accounts, codes, template), ``intake`` (ingest, run-inbox,
demo), ``views`` (claims, status), ``serving`` (serve); ``parser`` the arguments, ``output``
what is printed, ``runtime`` what running a flow needs. Each handler imports what it uses
when it runs, so that ``rma --help`` loads none of Prefect, pandas or SQLAlchemy."""
