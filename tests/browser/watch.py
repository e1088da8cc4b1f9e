""""No page logs a script error" (issue 16): a watcher on a page that collects every console
error, uncaught page error, failed request to our own origin and Content-Security-Policy
violation; the tier's page fixture fails the test when any was seen.

Chromium reports a CSP violation on the console, and the init script below reports it once
more with the directive and what was blocked, so the failure says which rule a page broke.
A test that means to see an error status (another account's batch is 404) says so with
``expect_status``: Chromium logs "Failed to load resource" for such an answer too. A request
the browser itself gave up (``net::ERR_ABORTED``: the page moved on before the icon came, or a
file was downloaded instead of shown) is no failure of ours; every other failure is (refused,
reset, empty answer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Page, Request, Response

ABORTED = "net::ERR_ABORTED"
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                + " on " + e.documentURI);
});
"""


@dataclass
class Watcher:
    origin: str
    problems: list[str] = field(default_factory=list)
    expected: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def on(cls, page: Page, origin: str) -> Watcher:
        watcher = cls(origin.rstrip("/"))
        page.add_init_script(CSP_REPORTER)
        page.on("console", watcher._console)
        page.on("pageerror", lambda error: watcher.problems.append(f"page error: {error}"))
        page.on("requestfailed", watcher._request_failed)
        page.on("response", watcher._response)
        return watcher

    def expect_status(self, path: str, status: int) -> None:
        """An answer of ``status`` for ``path`` (of our origin) is what the test wants."""
        self.expected.add((self.origin + path, status))

    def _expected(self, url: str) -> bool:
        return any(url == seen for seen, _ in self.expected)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        if message.text.startswith("Failed to load resource") and self._expected(where):
            return
        self.problems.append(f"console error: {message.text} ({where})")

    def _request_failed(self, request: Request) -> None:
        if request.url.startswith(self.origin) and request.failure != ABORTED:
            self.problems.append(f"request failed: {request.method} {request.url} "
                                 f"({request.failure})")

    def _response(self, response: Response) -> None:
        if not response.url.startswith(self.origin) or response.status < 400:
            return
        if (response.url, response.status) not in self.expected:
            self.problems.append(f"{response.status} for {response.request.method} "
                                 f"{response.url}")
