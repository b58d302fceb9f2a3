"""Playwright (python) driving Debian's chromium. No browser download: without
/usr/bin/chromium these tests are reported as skipped, with the reason."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")
# pytest-django's live_server runs in a thread while Playwright's sync API keeps an
# event loop in this one; Django's async-safety check would refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(
            f"chromium not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture
def desktop_page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    yield page
    ctx.close()


def login(page: Any, base: str, username: str, password: str = "pw-Linli-2026") -> None:  # noqa: S107
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
