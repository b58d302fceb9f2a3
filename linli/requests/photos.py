"""Photo checks: JPEG/PNG/WebP up to 8 MB, verified by decoding with Pillow, and re-encoded
so that EXIF (GPS position, phone model) never reaches storage."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.core.errors import ValidationFailed

MAX_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 6
MAX_PIXELS = 40_000_000  # refuses decompression bombs well before memory trouble
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile[bytes]
    content_type: str
    width: int
    height: int


def clean_photo(upload: IO[bytes] | Any, *, name: str = "photo") -> CleanPhoto:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationFailed(_("照片不能超过 8 MB。"), field="photos")
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValidationFailed(_("照片不能超过 8 MB。"), field="photos")
    if not raw:
        raise ValidationFailed(_("照片文件是空的。"), field="photos")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format or ""
            if fmt not in FORMATS:
                raise ValidationFailed(_("只支持 JPEG、PNG 或 WebP 格式的照片。"), field="photos")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed(_("照片像素过大。"), field="photos")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            # Keep the picture upright, then drop EXIF by writing only pixels.
            upright = ImageOps.exif_transpose(img)
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            params: dict[str, Any] = {"quality": 85} if fmt in ("JPEG", "WEBP") else {}
            upright.save(out, format=fmt, **params)
            width, height = upright.size
    except ValidationFailed:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as exc:
        raise ValidationFailed(_("上传的文件不是有效的图片。"), field="photos") from exc
    content_type, ext = FORMATS[fmt]
    return CleanPhoto(
        ContentFile(out.getvalue(), name=f"{name}.{ext}"), content_type, width, height
    )
