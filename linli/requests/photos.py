"""Photo checks: JPEG/PNG/WebP up to 8 MB, verified by decoding with Pillow, and re-encoded
so that EXIF (GPS position, phone model) never reaches storage.

Decoding is the expensive part (a small PNG can hold hundreds of megapixels), so the
dimensions are read from each file's header first — ``Image.open`` is lazy and decodes
nothing — and a photo over :data:`MAX_PIXELS`, or a set of photos over
:data:`MAX_TOTAL_PIXELS` together, is refused before any pixel is decoded. Each accepted
photo is decoded once (JPEGs straight at a reduced scale) and stored at most
:data:`MAX_SIDE` pixels on its long side."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.core.errors import ValidationFailed

MAX_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 6
MAX_PIXELS = 24_000_000  # per photo (a 24 MP phone camera); refuses decompression bombs
MAX_TOTAL_PIXELS = 60_000_000  # all photos of one request or one action together
MAX_SIDE = 1600  # stored photos: long side at most this many pixels
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_BAD_IMAGE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile[bytes]
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class PhotoHeader:
    """An upload read into memory and checked from its header only (nothing decoded)."""

    raw: bytes
    fmt: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _too_many_pixels() -> ValidationFailed:
    return ValidationFailed(
        _("照片像素过大（每张不超过 %(mp)d 万像素），请压缩后再上传。")
        % {"mp": MAX_PIXELS // 10_000},
        field="photos",
    )


def read_photo(upload: IO[bytes] | Any) -> PhotoHeader:
    """Size, format and dimensions from the header; no pixel data is decoded."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationFailed(_("照片不能超过 8 MB。"), field="photos")
    if hasattr(upload, "seek"):
        upload.seek(0)
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValidationFailed(_("照片不能超过 8 MB。"), field="photos")
    if not raw:
        raise ValidationFailed(_("照片文件是空的。"), field="photos")
    try:
        with Image.open(io.BytesIO(raw)) as probe:  # lazy: reads the header only
            fmt = probe.format or ""
            width, height = probe.size
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except _BAD_IMAGE as exc:
        raise ValidationFailed(_("上传的文件不是有效的图片。"), field="photos") from exc
    if fmt not in FORMATS:
        raise ValidationFailed(_("只支持 JPEG、PNG 或 WebP 格式的照片。"), field="photos")
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _too_many_pixels()
    return PhotoHeader(raw, fmt, width, height)


def decode_photo(header: PhotoHeader, *, name: str = "photo") -> CleanPhoto:
    """Decode once, keep it upright, shrink to :data:`MAX_SIDE` and re-encode (no EXIF)."""
    fmt = header.fmt
    try:
        with Image.open(io.BytesIO(header.raw)) as probe:
            probe.verify()  # structure and checksums, before the real decode
        with Image.open(io.BytesIO(header.raw)) as img:
            long_side = max(img.size)
            if fmt == "JPEG" and long_side > MAX_SIDE:
                # Let the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding.
                w, h = img.size
                img.draft(
                    None, (max(1, w * MAX_SIDE // long_side), max(1, h * MAX_SIDE // long_side))
                )
            img.load()
            # Keep the picture upright, then drop EXIF by writing only pixels.
            upright = ImageOps.exif_transpose(img)
            if max(upright.size) > MAX_SIDE:
                upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            params: dict[str, Any] = {"quality": 85} if fmt in ("JPEG", "WEBP") else {}
            upright.save(out, format=fmt, **params)
            width, height = upright.size
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except _BAD_IMAGE as exc:
        raise ValidationFailed(_("上传的文件不是有效的图片。"), field="photos") from exc
    content_type, ext = FORMATS[fmt]
    return CleanPhoto(
        ContentFile(out.getvalue(), name=f"{name}.{ext}"), content_type, width, height
    )


def clean_photo(upload: IO[bytes] | Any, *, name: str = "photo") -> CleanPhoto:
    return decode_photo(read_photo(upload), name=name)


def clean_photos(uploads: Sequence[Any], *, name: str = "photo") -> list[CleanPhoto]:
    """Check every photo's header and the total pixels first, then decode each once."""
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed(_("最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}, field="photos")
    headers = [read_photo(u) for u in uploads]
    if sum(h.pixels for h in headers) > MAX_TOTAL_PIXELS:
        raise ValidationFailed(
            _("照片总像素过大（合计不超过 %(mp)d 万像素），请减少张数或压缩后再上传。")
            % {"mp": MAX_TOTAL_PIXELS // 10_000},
            field="photos",
        )
    return [decode_photo(h, name=f"{name}-{i}") for i, h in enumerate(headers)]
