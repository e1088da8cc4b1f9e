""""No page logs a script error" (issue 16): a watcher on a page that collects every console
error, uncaught page error, failed request to our own origin and Content-Security-Policy
violation; the tier's page fixture fails the test when any was seen.

Chromium reports a CSP violation on the console, and the init script below reports it once
more with the directive and what was blocked, so the failure says which rule a page broke.
A test that means to see an error status (another account's batch is 404) says so with
``expect_status``: Chromium logs "Failed to load resource" for such an answer too. A file
the page downloads ends its request as "aborted" in Chromium: not a failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Page, Request, Response

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
    failed: list[tuple[str, str]] = field(default_factory=list)
    downloads: set[str] = field(default_factory=set)

    @classmethod
    def on(cls, page: Page, origin: str) -> Watcher:
        watcher = cls(origin.rstrip("/"))
        page.add_init_script(CSP_REPORTER)
        page.on("console", watcher._console)
        page.on("pageerror", lambda error: watcher.problems.append(f"page error: {error}"))
        page.on("requestfailed", watcher._request_failed)
        page.on("response", watcher._response)
        page.on("download", lambda download: watcher.downloads.add(download.url))
        return watcher

    def seen(self) -> list[str]:
        """Everything wrong so far (a request that failed, unless it was a download: the
        download event may come after the request's failure)."""
        return self.problems + [text for url, text in self.failed if url not in self.downloads]

    def forget(self) -> None:
        self.problems.clear()
        self.failed.clear()

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
        if request.url.startswith(self.origin):
            self.failed.append((request.url, f"request failed: {request.method} "
                                             f"{request.url} ({request.failure})"))

    def _response(self, response: Response) -> None:
        if not response.url.startswith(self.origin) or response.status < 400:
            return
        if (response.url, response.status) not in self.expected:
            self.problems.append(f"{response.status} for {response.request.method} "
                                 f"{response.url}")
