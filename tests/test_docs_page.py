"""/docs is served from local files under the site's CSP; every response carries a
Permissions-Policy, and HSTS where the browser came over HTTPS."""

from __future__ import annotations

import pytest


def test_docs_page_has_the_site_csp_and_frame_protection(server) -> None:
    response = server.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert "//" not in response.text.replace("<!doctype html>", "")  # nothing from another host
    assert server.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert server.get("/redoc").status_code == 404  # the CDN-only explorer is gone


@pytest.mark.parametrize("path", ["/", "/docs", "/api/events", "/openapi.json", "/static/site.css", "/e/no-such-event"])
def test_every_response_has_a_permissions_policy_and_hsts_only_over_https(server, path: str) -> None:
    plain = server.get(path)
    assert "camera=()" in plain.headers["permissions-policy"]
    assert "strict-transport-security" not in plain.headers
    secure = server.get(path, headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.browser
@pytest.mark.rendering
def test_swagger_ui_runs_under_the_csp_without_leaving_the_site(live_server, browser) -> None:
    tab = browser.new_page()
    console: list[str] = []
    requests: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    tab.on("request", lambda request: requests.append(request.url))
    try:
        tab.goto(live_server.url + "/docs")
        tab.locator(".opblock-summary-path", has_text="/api/events/{slug}/posts").first.wait_for(timeout=20_000)
        assert tab.locator(".opblock").count() > 10
    finally:
        tab.close()
    assert not [line for line in console if "Content Security Policy" in line], console
    assert requests and all(url.startswith(live_server.url) or url.startswith("data:") for url in requests), requests
