"""The account pages added for issue 9 (API tokens, password change and reset, TOTP
enrolment) fit a 360 px phone and work without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page: Any, base: str, url: str) -> tuple[str, int, int] | None:
    response = page.goto(base + url)
    page.wait_for_load_state("load")
    status = response.status if response else 0
    width = page.evaluate("document.documentElement.scrollWidth")
    return None if status == 200 and width <= 360 else (url, status, width)


def test_account_pages_fit_a_phone(world, live_server, phone_page: Any) -> None:
    base = live_server.url
    for url in ["/accounts/password/reset/", "/accounts/password/reset/confirm/"]:
        assert _check(phone_page, base, url) is None
    login(phone_page, base, "resident")
    phone_page.wait_for_url(f"{base}/me/")
    for url in ["/accounts/profile/", "/accounts/tokens/", "/accounts/password/change/"]:
        assert _check(phone_page, base, url) is None
    # Issue a token without JavaScript: the one-time key is shown and still fits.
    phone_page.goto(base + "/accounts/tokens/")
    phone_page.fill("input[name=name]", "家里的平板")
    phone_page.click("main form:not([action]) button[type=submit]")
    phone_page.wait_for_load_state("load")
    assert phone_page.locator("#new-key").input_value().startswith("ll_")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_staff_enrolment_page_fits_a_phone(world, live_server, phone_page: Any) -> None:
    base = live_server.url
    login(phone_page, base, "secretary")
    phone_page.wait_for_url(f"{base}/accounts/mfa/enrol/**")
    assert phone_page.locator(".qr-svg svg").count() == 1
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
