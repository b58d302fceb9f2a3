"""随手拍 on a 360 px phone without JavaScript: photo first, the building tapped on the
site plan, a validation error keeps the chosen photo, the final submit attaches it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from linli.requests.models import RequestPhoto, ServiceRequest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: LINLI_SHOTS_DIR to look at them, else the test's tmp dir."""
    out = Path(os.environ.get("LINLI_SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_report_form_on_a_phone_without_js(
    live_server: Any,
    chromium: Any,
    world: Any,
    cats: Any,
    settings: Any,
    tmp_path: Path,
    shots: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    photo = tmp_path / "phone.jpg"
    Image.new("RGB", (2400, 1800), (30, 120, 200)).save(photo, format="JPEG")
    client = Client()
    client.force_login(world.user("resident"))
    ctx = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
    )
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = ctx.new_page()
    page.goto(live_server.url + "/requests/new/")
    photos = page.get_by_label("照片（可选")
    assert photos.bounding_box()["y"] < page.get_by_label("问题类别").bounding_box()["y"]
    assert not page.get_by_role("button", name="定位到我这里").is_visible()  # needs JS
    assert not page.get_by_label("纬度（可选）").is_visible()  # folded: 手动输入坐标
    # Tap 2幢 on the site plan: a plain link, the page comes back with 2幢 selected.
    page.locator(f'.site-plan a[data-building="{world.building2.pk}"]').click()
    page.wait_for_url(f"**/requests/new/?building={world.building2.pk}*")
    assert page.get_by_label("楼栋").input_value() == str(world.building2.pk)
    # A validation error (no category) keeps the chosen photo.
    page.get_by_label("照片（可选").set_input_files(str(photo))
    page.get_by_label("问题描述").fill("2幢门口路灯坏了，晚上很黑")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("已保留 1 张照片").wait_for()
    assert page.get_by_role("img", name="已保留的照片 1").is_visible()
    assert ServiceRequest.objects.count() == 0
    assert int(page.evaluate("document.documentElement.scrollWidth")) <= 360
    page.screenshot(path=str(shots / "report_form_360.png"), full_page=True)
    page.get_by_label("问题类别").select_option(label="路灯/楼道灯损坏")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("诉求已提交").wait_for()
    req = ServiceRequest.objects.get()
    assert req.building_id == world.building2.pk
    assert RequestPhoto.objects.filter(request=req).count() == 1
    ctx.close()
