"""The pipeline's database user needs no DDL rights, nor DELETE, at run time
(docs/security.md, "Database roles"): a PostgreSQL role with SELECT, INSERT and UPDATE only
runs the nightly job; the migrations run as the owner."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from rma.entrypoints.cli import main
from tests.factories import valid_claim, write_csv

pytestmark = [pytest.mark.postgres, pytest.mark.prefect]


@pytest.fixture
def app_role(pg_url):
    """A login role with DML rights only on a migrated claims database; dropped afterwards."""
    from rma.adapters.db.engine import upgrade
    from tests.conftest import _pg_admin

    upgrade(pg_url)
    role = f"rma_app_{uuid.uuid4().hex[:8]}"
    owner = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public "
                             f"TO {role}"))
        conn.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    owner.dispose()
    url = sa.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    yield url
    admin = _pg_admin()
    with admin.connect() as conn:
        name = sa.make_url(pg_url).database
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_nightly_job_runs_with_a_role_that_has_no_ddl_rights(
        cli, workdir, app_role, monkeypatch, capsys):
    monkeypatch.setenv("RMA_DATABASE_URL", app_role)
    engine = sa.create_engine(app_role)
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError,
                                                 match="permission denied"):
        conn.execute(sa.text("CREATE TABLE sneaky (id int)"))
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError,
                                                 match="permission denied"):
        conn.execute(sa.text("DELETE FROM claims"))
    engine.dispose()

    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    write_csv(folder / "night.csv", [valid_claim(claim_ref="R-1", rma_code="GOOD-0001"),
                                     valid_claim(claim_ref="R-2", recipient_email="x")])
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    [batch] = run.json()["batches"]
    assert (batch["status"], batch["claims_accepted"], batch["claims_rejected"]) == \
        ("posted", 1, 1)
    assert cli("codes", "issue", "--account", "D-001").code == 0
    assert cli("status", "--json").code == 0
    capsys.readouterr()
    assert main(["db", "upgrade"]) == 0  # already at head: nothing to create
