"""Listing photos: checked (size, type), stored resized under PHOTO_DIR, listed as OCPI Images.

A photo is kept twice, re-encoded by Pillow (which also drops whatever else the upload
carried): a large JPEG (at most 1600 px) and a thumbnail (at most 400 px). The Location's
OCPI `images` hold their URLs, so roaming partners see the same photos as drivers.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from app.core.errors import ValidationFailed

ACCEPTED = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
LARGE, THUMB = 1600, 400
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MAX_PHOTOS = 8


@dataclass(frozen=True)
class StoredPhoto:
    """A photo as stored: its file name stem and size."""

    name: str
    width: int
    height: int


def photo_dir() -> Path:
    """Where photos are stored (the PHOTO_DIR setting), created when missing."""
    folder = Path(current_app.config["PHOTO_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def limits_text() -> str:
    """The upload limits in plain words, shown before the owner submits."""
    megabytes = int(current_app.config["PHOTO_MAX_BYTES"]) / 1_000_000
    return f"JPEG, PNG or WebP, up to {megabytes:g} MB each, at most {MAX_PHOTOS} photos"


def store_photo(data: bytes) -> StoredPhoto:
    """Check an upload and store it resized; refuse with the reason beside the field."""
    if not data:
        raise ValidationFailed({"photo": ["Choose a photo to upload."]})
    if len(data) > int(current_app.config["PHOTO_MAX_BYTES"]):
        raise ValidationFailed({"photo": [f"This photo is too large ({limits_text()})."]})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            if kind not in ACCEPTED:
                raise ValidationFailed(
                    {"photo": [f"This is not a photo we take ({limits_text()})."]}
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed({"photo": ["This photo has too many pixels."]})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("RGB")
            name = uuid.uuid4().hex
            large = _resized(image, LARGE)
            large.save(photo_dir() / f"{name}.jpg", "JPEG", quality=85)
            _resized(image, THUMB).save(photo_dir() / f"{name}-thumb.jpg", "JPEG", quality=80)
            return StoredPhoto(name, large.width, large.height)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValidationFailed(
            {"photo": [f"This file is not a readable photo ({limits_text()})."]}
        ) from error


def _resized(image: Image.Image, longest: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((longest, longest))
    return copy


def photo_path(filename: str) -> Path | None:
    """The stored file for a served name (hex stem, optional -thumb, .jpg), or None."""
    stem = filename.removesuffix(".jpg").removesuffix("-thumb")
    if (
        not filename.endswith(".jpg")
        or len(stem) != 32
        or not all(c in "0123456789abcdef" for c in stem)
    ):
        return None
    path = photo_dir() / filename
    return path if path.is_file() else None
