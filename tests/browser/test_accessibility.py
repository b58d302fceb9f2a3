"""WCAG 2.1 A/AA checks (axe-core, vendored under tests/browser/vendor, MPL-2.0) on the
resident pages at phone width, in standard and elderly mode, and on staff pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from linli.core import nav
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js").read_text()
RUN = """async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag',
      values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  return r.violations.map(v => [v.id, v.nodes.length, v.nodes[0].html.slice(0, 120)]);
}"""


def _violations(page: Any, base: str, urls: list[str]) -> list[Any]:
    found = []
    for url in urls:
        page.goto(base + url)
        page.wait_for_load_state("load")
        page.add_script_tag(content=AXE)
        for v in page.evaluate(RUN):
            found.append((url, *v))
    return found


@pytest.mark.parametrize("elderly", [False, True])
def test_resident_pages_have_no_wcag_violations(
    world, live_server, browser: Any, elderly: bool
) -> None:
    user = world.user("resident")
    user.elderly_mode = elderly
    user.save()
    # The CSP forbids injected scripts; only the test's context bypasses it to run axe.
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = ctx.new_page()
    login(page, live_server.url, "resident")
    page.wait_for_url(f"{live_server.url}/me/")
    urls = ["/me/", reverse("accounts:profile")]
    urls += [i.url() for i in nav.items_for("resident", user) if i.url() != "#"]
    assert _violations(page, live_server.url, urls) == []
    ctx.close()


def test_staff_pages_have_no_wcag_violations(world, live_server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = ctx.new_page()
    login(page, live_server.url, "secretary")
    page.wait_for_url(f"{live_server.url}/workbench/")
    urls = ["/workbench/"] + [i.url() for i in nav.items_for("staff", world.user("secretary"))]
    assert _violations(page, live_server.url, [u for u in urls if u != "#"]) == []
    ctx.close()
