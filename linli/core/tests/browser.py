"""What the browser tests share: a phone-sized page, logging in, the no-sideways-scroll
check and screenshots for a person to look at (``<tmp>/shots/<app>/<name>.png``). The
``page`` fixture in the root conftest is ``phone()`` without JavaScript."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PASSWORD = "pw-Linli-2026"  # noqa: S105 - the test users' password (conftest.make_user)
SHOTS = Path(tempfile.gettempdir()) / "shots"


@contextmanager
def phone(chromium: Any, *, js: bool = False, width: int = 360, height: int = 740) -> Iterator[Any]:
    """A page in its own context: a phone's width, Chinese, JavaScript off unless asked."""
    ctx = chromium.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", java_script_enabled=js
    )
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form (after dropping whoever was logged in)."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def fits(page: Any, width: int = 360) -> None:
    got = page.evaluate("document.documentElement.scrollWidth")
    assert got <= width, f"page is {got}px wide at {width}px"


def shooter(app: str, *, check_width: bool = False) -> Callable[[Any, str], None]:
    """``shot(page, name)`` for one app's screenshots (full page)."""
    folder = SHOTS / app

    def shot(page: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        if check_width:
            fits(page)

    return shot
