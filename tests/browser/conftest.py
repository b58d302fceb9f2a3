"""Playwright (python) driving Debian's chromium. No browser download: without
/usr/bin/chromium these tests are reported as skipped, with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def browser(chromium: Any) -> Any:
    return chromium


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
