"""Issue 9, finding 5 (photo decoding is a cheap DoS) and finding 13 (request photos are
seen by the reporter and the staff who handle or supervise the request only, unless the
reporter made the request public)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from linli.core.errors import ValidationFailed
from linli.requests.models import RequestPhoto, ServiceRequest

pytestmark = pytest.mark.django_db


def _png(size: tuple[int, int], mode: str = "1") -> SimpleUploadedFile:
    """A large but cheap PNG: a blank 1-bit image compresses to a few KB."""
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format="PNG")
    return SimpleUploadedFile("big.png", buf.getvalue(), content_type="image/png")


def _jpeg(size: tuple[int, int]) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(buf, format="JPEG", quality=70)
    return SimpleUploadedFile("big.jpg", buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fail loudly if any pixel data is decoded."""
    calls: list[int] = []

    def load(self: Any) -> Any:
        calls.append(1)
        raise AssertionError("pixel data decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


def test_huge_png_refused_from_its_header_without_decoding(
    submit: Any, no_decoding: list[int]
) -> None:
    big = _png((6300, 6300))
    assert (big.size or 0) < 200_000  # small upload, 39.7 MP of pixels
    with pytest.raises(ValidationFailed) as exc:
        submit(photos=[big])
    assert "像素" in str(exc.value.message) and "2400" in str(exc.value.message)
    assert no_decoding == [] and ServiceRequest.objects.count() == 0


def test_total_pixels_per_request_are_capped(submit: Any, no_decoding: list[int]) -> None:
    # Each 20 MP photo is allowed alone; four of them (80 MP) in one request are not.
    four = [_png((5000, 4000)) for _ in range(4)]
    with pytest.raises(ValidationFailed) as exc:
        submit(photos=four)
    assert "总像素" in str(exc.value.message)
    assert no_decoding == [] and ServiceRequest.objects.count() == 0


def test_each_photo_is_decoded_once(submit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    decodes: list[str] = []
    real = ImageFile.ImageFile.load

    def counting(self: Any) -> Any:
        if self.tile:  # pixel data still to decode (emptied once decoded)
            decodes.append(self.format)
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting)
    req = submit(photos=[_jpeg((40, 30)), _jpeg((50, 30))])
    assert req.photos.count() == 2 and decodes == ["JPEG", "JPEG"]


def test_big_jpeg_is_stored_at_most_1600_px(submit: Any) -> None:
    req = submit(photos=[_jpeg((4000, 3000))])
    ph = req.photos.get()
    assert (ph.width, ph.height) == (1600, 1200)
    with Image.open(ph.image.open("rb")) as img:
        assert img.size == (1600, 1200) and img.format == "JPEG"


# ---------------------------------------------------------------- who sees the photos


def _photo_req(submit: Any, **kw: Any) -> tuple[ServiceRequest, RequestPhoto]:
    req = submit(photos=[_jpeg((40, 30))], **kw)
    return req, req.photos.get()


@pytest.mark.parametrize(
    "user,status",
    [
        ("resident", 200),  # the reporter
        ("neighbour", 404),  # same community, not the reporter
        ("property", 200),  # handles it
        ("grid_worker", 200),
        ("secretary", 200),
        ("supervisor", 200),
        ("grid2_worker", 404),  # another grid of the same community
        ("stranger", 404),  # another community's resident
        ("other_secretary", 404),  # another community's staff
    ],
)
def test_photo_only_for_reporter_and_staff(
    client: Any, world: Any, submit: Any, user: str, status: int
) -> None:
    req, ph = _photo_req(submit)
    client.force_login(world.user(user))
    assert client.get(f"/requests/{req.pk}/photo/{ph.pk}/").status_code == status
    if user == "neighbour":
        page = client.get(f"/requests/{req.pk}/").content.decode()
        assert f"/photo/{ph.pk}/" not in page  # not even linked


def test_public_request_photo_is_seen_by_neighbours(client: Any, world: Any, submit: Any) -> None:
    req, ph = _photo_req(submit, public=True)
    client.force_login(world.user("neighbour"))
    assert client.get(f"/requests/{req.pk}/photo/{ph.pk}/").status_code == 200
    client.force_login(world.user("stranger"))
    assert client.get(f"/requests/{req.pk}/photo/{ph.pk}/").status_code == 404
