"""No page logs a script error (issue 16): the API's documentation at /api/docs draws its
operations from our own files under our Content-Security-Policy, every portal page has its
icon; and the watcher that checks every test's pages sees a CSP violation, an uncaught error
and a failed request of our origin when there is one."""

from __future__ import annotations

import re

from playwright.sync_api import Route, expect

from tests.browser.steps import signed_in

CSP = "default-src 'self'; script-src 'self'"


def test_the_api_docs_list_the_operations_without_a_console_error(page, portal):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/api/docs")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = {p.get_attribute("data-path") for p in operations.all()}
    assert {"/api/v1/batches", "/api/v1/claims", "/api/v1/codes/{code}"} <= paths, paths
    expect(page.locator(".info .title")).to_contain_text("RMA claim intake")
    page.locator(".opblock-summary-path[data-path='/api/v1/claims']").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert asked and all(url.startswith(portal.base + "/") for url in asked), asked  # no CDN


def test_every_page_a_partner_or_staff_opens_has_its_icon_and_logs_no_error(open_page,
                                                                              portal):
    partner, _ = open_page()
    signed_in(partner, portal, "D-001", "icon@d001.example")
    staff, _ = open_page()
    signed_in(staff, portal, "D-001", "icon@ops.example", role="staff")
    for page, paths in ((partner, ("/upload", "/claims/new", "/batches", "/claims", "/signin")),
                        (staff, ("/staff", "/staff/codes", "/staff/lockouts"))):
        for path in paths:
            answer = page.goto(path)
            assert answer is not None and answer.status == 200, path
            href = page.locator("link[rel=icon]").get_attribute("href")
            assert href and href.startswith("/static/"), href
            icon = page.request.get(href)
            assert icon.status == 200 and icon.headers["content-type"].startswith("image/")


def test_the_watcher_sees_a_csp_violation_a_script_error_and_a_failed_request(
        open_page, portal):
    page, watcher = open_page()

    def broken(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", headers={
            "content-security-policy": CSP},
            body='<!doctype html><title>t</title><script>document.title = "inline"</script>'
                 '<script src="/watcher-throws.js"></script><img src="/watcher-gone.png">')

    page.route(re.compile(r"/watcher-page$"), broken)
    page.route(re.compile(r"/watcher-throws\.js$"), lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="throw new Error('boom')"))
    page.route(re.compile(r"/watcher-gone\.png$"), lambda route: route.abort())
    page.goto("/watcher-page")
    expect(page).to_have_title("t")  # the inline script did not run
    seen = "\n".join(watcher.problems)
    assert "CSP violation: script-src-elem blocked inline" in seen, seen
    assert "page error: boom" in seen or "Error: boom" in seen, seen
    assert "request failed: GET " + portal.base + "/watcher-gone.png" in seen, seen
    watcher.problems.clear()  # seen, as they should be: not this test's failure
