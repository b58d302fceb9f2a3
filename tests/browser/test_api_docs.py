"""/api/v1/docs renders Swagger UI under the site's CSP (issue 9, finding 13): its
script and stylesheet come from our origin, and the browser reports no CSP refusal."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_under_the_csp(live_server: Any, desktop_page: Any) -> None:
    problems: list[str] = []
    desktop_page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    outside: list[str] = []
    desktop_page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    desktop_page.goto(f"{live_server.url}/api/v1/docs")
    desktop_page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "Linli" in desktop_page.inner_text(".swagger-ui .info .title")
    desktop_page.wait_for_selector(".opblock", timeout=15000)  # operations listed
    assert outside == [] and problems == []
