"""The e-mails taken in (``mail_messages``, SPEC §8): whether one was taken in before, and
its record once it is handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.bulk import insert_rows
from rma.adapters.db.tables import mail_messages


class MailRecords:
    """Reads and writes of the mail records on one Connection (the caller owns the
    transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def find_message(self, message_id: str, sha256: str, content_sha256: str = "",
                     since: datetime | None = None) -> str | None:
        """The Message-ID under which this e-mail was taken in: the same Message-ID, the same
        bytes, or (given ``content_sha256`` and ``since``) the same content as a message that
        was answered (``processed``) at or after ``since``. One query on indexed columns.

        Only answered messages count for the content: one from an unknown sender got no reply
        and posted nothing, so the same content sent again (say once Customer Service has
        registered the address) is read. An exact match is named before a content match, and
        of content matches the latest.
        """
        exact = (mail_messages.c.message_id == message_id) | (mail_messages.c.sha256 == sha256)
        condition = exact
        if content_sha256 and since is not None:
            condition = exact | ((mail_messages.c.content_sha256 == content_sha256)
                                 & (mail_messages.c.status == "processed")
                                 & (mail_messages.c.received_at >= since))
        stmt = (sa.select(mail_messages.c.message_id).where(condition)
                .order_by(sa.case((exact, 0), else_=1), mail_messages.c.received_at.desc())
                .limit(1))
        return self.conn.execute(stmt).scalar_one_or_none()

    def insert_message(self, record: dict[str, Any]) -> None:
        insert_rows(self.conn, mail_messages, [record])
