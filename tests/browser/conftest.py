"""The browser tier (issue 16): a real `rma web` on a free port (a seeded SQLite claims
database, the test session's Prefect API, sign-in links pointing at itself), driven by
Playwright's sync API in Debian's headless Chromium (``/usr/bin/chromium``; Playwright
downloads no browser of its own). Every page a test opens is watched (``watch.Watcher``): a
console error, page error, failed request of our origin or CSP violation fails the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.watch import Watcher
from tests.e2e.web_server import Web, running_web

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 860}
#: how long one step may wait for the page (a submit runs a Prefect flow)
STEP_MS = 60_000

OpenPage = Callable[..., tuple[Page, Watcher]]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # one xdist worker runs the whole tier (addopts: --dist loadgroup): one rma web for the
    # session instead of one per worker
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[Web]:
    with running_web(tmp_path_factory.mktemp("portal"), prefect_api,
                     links_to_itself=True) as web:
        yield web


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Chromium for one test module, then stopped: while Playwright's sync API is alive its
    event loop counts as running in this thread, and Prefect's sync calls (``run_deployment``)
    in the next tests on this worker would hand back coroutines instead of running."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver "
                    "(.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium: Browser, portal: Web) -> Iterator[OpenPage]:
    """``open_page(javascript=True)``: a watched page in a browser context of its own (its
    own cookies: another person); ``open_page(tab_of=page)``: another tab of the same person.
    At the end of the test every watcher must be clean."""
    opened: list[tuple[BrowserContext, Watcher]] = []

    def open_one(javascript: bool = True, tab_of: Page | None = None) -> tuple[Page, Watcher]:
        if tab_of is not None:
            context = tab_of.context
        else:
            context = chromium.new_context(base_url=portal.base, viewport=VIEWPORT,
                                           java_script_enabled=javascript)
            context.set_default_timeout(STEP_MS)
        page = context.new_page()
        watcher = Watcher.on(page, portal.base)
        opened.append((context, watcher))
        return page, watcher

    yield open_one
    problems = []
    for context, watcher in opened:
        context.close()
        problems += watcher.problems
    assert not problems, "the browser saw:\n" + "\n".join(problems)


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    return open_page()[0]
