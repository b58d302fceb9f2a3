"""Every resident page fits a 360 px phone, in standard and in elderly mode, and speaks
Chinese — checked in the real browser, not only with the test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from linli.core import nav
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _resident_urls(user: Any) -> list[str]:
    urls = [item.url() for item in nav.items_for("resident", user)]
    return ["/me/", reverse("accounts:profile"), *[u for u in urls if u != "#"]]


@pytest.mark.parametrize("elderly", [False, True])
def test_every_resident_page_fits_a_phone(
    world, live_server, phone_page: Any, elderly: bool
) -> None:
    user = world.user("resident")
    user.elderly_mode = elderly
    user.save()
    login(phone_page, live_server.url, "resident")
    phone_page.wait_for_url(f"{live_server.url}/me/")
    urls = _resident_urls(user)
    assert len(urls) >= 10  # every capability registers its resident pages
    problems = []
    for url in urls:
        response = phone_page.goto(live_server.url + url)
        phone_page.wait_for_load_state("load")
        status = response.status if response else 0
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        lang = phone_page.locator("html").get_attribute("lang")
        cls = phone_page.locator("html").get_attribute("class") or ""
        if status != 200 or width > 360 or lang != "zh-Hans" or (("elderly" in cls) != elderly):
            problems.append((url, status, width, lang, cls))
    assert problems == []
