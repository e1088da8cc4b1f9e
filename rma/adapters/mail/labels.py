"""A ``Label: value`` line of an e-mail body, and the mail header labels that are never claims.

Both the form reader (``rma.adapters.mail.forms``) and the cut at earlier messages
(``rma.adapters.mail.history``) read lines this way: a label of up to 60 characters before the
first colon, optionally after a ``- ``, ``* `` or ``•`` bullet.
"""

from __future__ import annotations

import functools
import re

from rma.domain.vocabulary.columns import header_key

#: Mail header labels (folded by :func:`header_key`) that are never claim fields.
MAIL_HEADER_LABELS: frozenset[str] = frozenset(
    header_key(label) for label in (
        "From", "Sent", "To", "Subject", "Date", "Cc", "Bcc", "Reply-To", "Importance",
        "Attachments", "Organization", "Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition",
        "Von", "Gesendet", "An", "Betreff", "Datum", "Kopie", "Antwort an", "Anlagen",
        "De", "Envoyé", "Objet", "À",
    )
)
FROM_LABELS = frozenset(header_key(label) for label in ("From", "Von", "De"))

_LABEL_LINE = re.compile(r"^\s*(?:[-*•·]\s+)?(?P<label>[^:\n]{1,60}?)\s*:(?P<value>.*)$")

#: ``header_key`` of a label; labels repeat line after line (SN: ...): fold each spelling once
label_key = functools.lru_cache(maxsize=4096)(header_key)


def label_of(line: str) -> tuple[str, str] | None:
    """The label (stripped) and the raw value after the colon; None for no label line."""
    match = _LABEL_LINE.match(line)
    if match is None:
        return None
    return match.group("label").strip(), match.group("value")
