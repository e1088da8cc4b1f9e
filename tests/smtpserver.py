"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (``smtp_server`` fixture, registered
for every test through ``pytest_plugins`` in tests/conftest.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    """An aiosmtpd handler that keeps every envelope it accepts; ``refuse`` lists recipients
    answered 550 at RCPT."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.received: list[dict] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.received.append({
            "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
            "content": bytes(envelope.original_content or envelope.content),
            "login": (session.auth_data.login.decode()
                      if isinstance(session.auth_data, LoginPassword) else None),
        })
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(r["content"], policy=policy.default) for r in self.received]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"user"
          and auth_data.password == b"s3cr:t@")
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """Start aiosmtpd servers on 127.0.0.1 (a ``Recorder`` unless a handler is given); every
    one is stopped after the test. ``start(...)`` returns ``(handler, port)``."""
    started: list[Controller] = []

    def start(port: int | None = None, auth: bool = False, refuse: tuple[str, ...] = (),
              handler: Any = None):
        handler = handler if handler is not None else Recorder(refuse)
        kwargs = {}
        if auth:
            kwargs = dict(authenticator=_authenticator, auth_require_tls=False,
                          auth_required=True)
        controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(),
                                **kwargs)
        controller.start()
        started.append(controller)
        return handler, controller.port

    yield start
    for controller in started:
        controller.stop()
