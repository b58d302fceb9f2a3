"""随手拍 form: photo first, building pickers and a server-drawn site plan (works without
JS), typed coordinates as a fallback; uploaded photos kept across re-renders."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.requests import pending
from linli.requests.models import RequestPhoto, ServiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _jpeg(size: tuple[int, int] = (2400, 1800)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, format="JPEG")
    return SimpleUploadedFile("phone.jpg", buf.getvalue(), content_type="image/jpeg")


def test_photo_first_site_plan_and_coordinates_fallback(client: Any, world: Any) -> None:
    client.force_login(world.user("resident"))
    body = client.get("/requests/new/").content.decode()
    form = body[body.index('id="report-form"') :]
    order = [form.index(s) for s in ('name="photos"', 'name="category"', 'name="building"')]
    assert order == sorted(order), "photo first, then category, then the building"
    assert 'name="unit"' in form and "定位到我这里" in form and "js/report.js" in body
    # Typed coordinates stay, folded under 手动输入坐标.
    details = form[form.index('<details class="manual-coords"') : form.index("</details>")]
    assert "手动输入坐标" in details and 'name="lat"' in details and 'name="lng"' in details
    # The site plan: one SVG link per building with a position, 1幢 south-west of 2幢.
    svg = form[form.index("<svg") : form.index("</svg>")]
    b1, b2 = world.building, world.building2
    for b in (b1, b2):
        assert f'href="?building={b.pk}#site-plan"' in svg and f">{b.name}</text>" in svg
    pos = {
        int(m[0]): (float(m[1]), float(m[2]))
        for m in re.findall(r'data-building="(\d+)".*?<rect x="([\d.]+)" y="([\d.]+)"', svg, re.S)
    }
    assert pos[b1.pk][0] < pos[b2.pk][0] and pos[b1.pk][1] > pos[b2.pk][1]  # north up
    for x, y in pos.values():
        assert 0 <= x <= 320 and 0 <= y <= 220


def test_tapping_a_building_on_the_site_plan_selects_it_without_js(
    client: Any, world: Any, cats: Any
) -> None:
    client.force_login(world.user("resident"))
    b2 = world.building2
    assert world.residents["resident"].household.building_id != b2.pk
    body = client.get(f"/requests/new/?building={b2.pk}").content.decode()
    assert re.search(rf'<option value="{b2.pk}" selected>', body)
    assert re.search(rf'class="plan-building is-selected" data-building="{b2.pk}"', body)
    # Someone else's building is not offered and falls back to the resident's own.
    other = client.get(f"/requests/new/?building={world.other_building.pk}").content.decode()
    assert f'data-building="{world.other_building.pk}"' not in other
    own = world.residents["resident"].household.building_id
    assert re.search(rf'<option value="{own}" selected>', other)
    r = client.post(
        f"/requests/new/?building={b2.pk}",
        {
            "category": cats["fac-light"].pk,
            "building": b2.pk,
            "unit": "",
            "description": "2幢门口路灯坏了",
        },
    )
    assert r.status_code == 302
    assert ServiceRequest.objects.get().building_id == b2.pk


def test_validation_error_keeps_the_photo_and_the_final_submit_attaches_it(
    client: Any, world: Any, cats: Any, media: Any
) -> None:
    client.force_login(world.user("resident"))
    r = client.post(
        "/requests/new/",
        {"building": world.building.pk, "description": "楼道灯坏了一周", "photos": _jpeg()},
    )
    body = r.content.decode()
    assert r.status_code == 200 and ServiceRequest.objects.count() == 0
    token = re.search(r'name="kept_photos" value="([^"]+)"', body)
    assert token, "the uploaded photo is kept in the re-rendered form"
    assert "已保留 1 张照片" in body and 'src="data:image/jpeg;base64,' in body
    kept = pending.load(token[1], user_id=world.user("resident").pk)
    assert len(kept) == 1 and default_storage.exists(kept[0].name)
    # Stored already shrunk (long side ≤ 1600 px).
    with default_storage.open(kept[0].name) as fh, Image.open(fh) as img:
        assert max(img.size) == 1600
    r = client.post(
        "/requests/new/",
        {
            "category": cats["fac-light"].pk,
            "building": world.building.pk,
            "description": "楼道灯坏了一周",
            "kept_photos": token[1],
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    req = ServiceRequest.objects.get()
    assert RequestPhoto.objects.filter(request=req).count() == 1
    assert not default_storage.exists(kept[0].name), "the pending copy is removed"


def test_a_kept_photo_list_is_bound_to_its_user(client: Any, world: Any, media: Any) -> None:
    (photo,) = pending.keep([_jpeg((40, 30))])
    mine = pending.token_for([photo], user_id=world.user("resident").pk)
    assert pending.load(mine, user_id=world.user("resident").pk) == [photo]
    assert pending.load(mine, user_id=world.user("secretary").pk) == []
    assert pending.load(mine + "x", user_id=world.user("resident").pk) == []
    assert pending.load("", user_id=world.user("resident").pk) == []


def test_abandoned_kept_photos_are_purged_after_their_window(world: Any) -> None:
    """A photo kept for a form that was never submitted is deleted once its signed token
    has expired (2 h); a photo still inside its window and a file that is not a kept
    photo stay. The periodic deadline sweep runs the purge."""
    from datetime import timedelta
    from unittest import mock

    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone

    three_hours_ago = timezone.now() - timedelta(hours=3)
    with mock.patch("django.core.files.storage.memory.now", return_value=three_hours_ago):
        (old,) = pending.keep([_jpeg((40, 30))])
    (fresh,) = pending.keep([_jpeg((40, 30))])
    stranger = default_storage.save("pending/README.txt", ContentFile(b"not a photo"))
    out = io.StringIO()
    call_command("sweep_deadlines", stdout=out)
    # Other tests' kept photos share the in-memory storage, all younger than 2 h.
    purged = re.search(r"pending_photos_purged=(\d+)", out.getvalue())
    assert purged is not None and int(purged.group(1)) == 1
    assert not default_storage.exists(old.name)
    assert default_storage.exists(fresh.name) and default_storage.exists(stranger)
    # Once its window has passed, the fresh one goes too.
    later = timezone.now() + timedelta(seconds=pending.MAX_AGE + 60)
    assert pending.purge_stale(now=later) >= 1
    assert not default_storage.exists(fresh.name) and default_storage.exists(stranger)
