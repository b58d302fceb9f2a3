"""随手拍 with JavaScript on a 360 px phone: the enhancements of linli/static/js/report.js
really run — 定位到我这里 fills the coordinates, tapping a building on the site plan
selects it without a reload, and a large photo is shrunk to ≤ 1600 px before upload."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import login

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(tempfile.gettempdir()) / "shots"


def test_report_form_enhancements_run(
    world: Any, live_server: Any, chromium: Any, tmp_path: Path
) -> None:
    ctx = chromium.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        geolocation={"latitude": 30.274123, "longitude": 120.155456},
        permissions=["geolocation"],
    )
    page = ctx.new_page()
    try:
        login(page, live_server.url, "resident")
        page.wait_for_url(f"{live_server.url}/me/")
        page.goto(f"{live_server.url}/requests/new/")
        # 定位到我这里: shown only with JS, fills 纬度/经度 and unfolds them.
        locate = page.get_by_role("button", name="定位到我这里")
        assert locate.is_visible()
        locate.click()
        page.wait_for_function("() => document.querySelector('[name=lat]').value !== ''")
        assert page.input_value("[name=lat]") == "30.274123"
        assert page.input_value("[name=lng]") == "120.155456"
        assert page.get_by_label("纬度（可选）").is_visible()
        # Site plan: tapping 2幢 selects it in place (no navigation).
        url_before = page.url
        page.locator(f'.site-plan a[data-building="{world.building2.pk}"]').click()
        assert page.url == url_before
        assert page.get_by_label("楼栋").input_value() == str(world.building2.pk)
        marked = page.locator(".plan-building.is-selected")
        assert marked.count() == 1
        assert marked.get_attribute("data-building") == str(world.building2.pk)
        # Choosing in the select moves the mark on the plan too.
        page.get_by_label("楼栋").select_option(str(world.building.pk))
        assert page.locator(".plan-building.is-selected").get_attribute("data-building") == str(
            world.building.pk
        )
        # A 4000 × 3000 photo is replaced in the file input by a ≤ 1600 px JPEG.
        big = tmp_path / "big.png"
        Image.new("RGB", (4000, 3000), (30, 120, 200)).save(big, format="PNG")
        page.get_by_label("照片（可选").set_input_files(str(big))
        page.wait_for_function(
            "() => { const f = document.querySelector('[name=photos]').files[0];"
            " return f && f.type === 'image/jpeg'; }"
        )
        dims = page.evaluate(
            "() => createImageBitmap(document.querySelector('[name=photos]').files[0])"
            ".then(b => [b.width, b.height])"
        )
        assert dims == [1600, 1200]
        assert page.locator("#report-form button[type=submit]").is_enabled()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "report_js_360.png"), full_page=True)
    finally:
        ctx.close()
