"""One image file (or PIL image) to uint8 pixels at the configured size: the whole recipe.

`decode_image` is the only place where a raw image becomes network input pixels; the cache
(`data.cache`) and `shiftnas predict` both call it, so a deployed model sees exactly what the
pipeline trained and tested on. The steps, in order (`recipe` says them in words for the card):

1. EXIF orientation applied (`ImageOps.exif_transpose`): a phone photo stands upright.
2. Mode: 16-bit greyscale (`I;16`, `I`) scaled to 8 bits; palette, CMYK, LA and the like
   converted by Pillow; an alpha channel composited over white.
3. Resize (`policy`, bilinear with antialiasing): `center_crop` scales the shorter side to
   `size` and keeps the centre square (`ImageOps.fit`); `pad` scales the longer side to `size`
   and pads to a square with `fill` (`ImageOps.pad`); `stretch` scales both sides; `none`
   keeps the pixels as they are.
4. Channels: 1 -> greyscale (`L`, ITU-R 601-2 luma), 3 -> RGB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

# Pillow's 16-bit modes hold values up to 65535; scale them to 8 bits before any conversion
_WIDE_MODES = {"I;16", "I;16B", "I;16L", "I", "F"}


class UnreadableImage(Exception):
    """A file Pillow cannot decode; `reason` is its first line."""


def _to_channels(image: Image.Image, channels: int) -> Image.Image:
    if image.mode in _WIDE_MODES:
        wide = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if wide.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(wide * 255.0 / peak, 0, 255).round().astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L" if channels == 1 else "RGB")


def resize_image(image: Image.Image, size: int, policy: str, fill: int = 0) -> Image.Image:
    """`image` at `size` x `size` px under `policy` (see the module's docstring)."""
    method = Image.Resampling.BILINEAR
    if policy == "none":
        return image
    if policy == "center_crop":
        return ImageOps.fit(image, (size, size), method=method)
    if policy == "pad":
        color: Any = fill if image.mode == "L" else (fill, fill, fill)
        return ImageOps.pad(image, (size, size), method=method, color=color)
    if policy == "stretch":
        return image.resize((size, size), method)
    raise ValueError(f"unknown resize policy {policy!r}")


def decode_image(
    source: str | Path | Image.Image, size: int | None, policy: str, channels: int, fill: int = 0
) -> np.ndarray:
    """Pixels `(channels, H, W)` uint8; `(size, size)` unless `policy` is "none".

    Raises `UnreadableImage` when Pillow cannot open or decode the file."""
    try:
        if isinstance(source, Image.Image):
            image = source
        else:
            with Image.open(source) as opened:
                opened.load()
                image = opened.copy() if opened.mode != "P" else opened.convert("RGBA")
                image.info.update(opened.info)
        image = ImageOps.exif_transpose(image) or image
        image = _to_channels(image, channels)
        if policy != "none":
            assert size is not None
            image = resize_image(image, size, policy, fill)
        pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UnreadableImage(first) from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def recipe(policy: str, size: int, channels: int, fill: int = 0) -> dict[str, Any]:
    """The preprocessing of `decode_image` as data, for the model card and `shiftnas predict`."""
    steps = {
        "none": f"none: images must already be {size}x{size} px",
        "center_crop": f"scale the shorter side to {size} px, keep the centre {size}x{size} "
        "(PIL ImageOps.fit, bilinear)",
        "pad": f"scale the longer side to {size} px, pad to {size}x{size} with grey level "
        f"{fill} (PIL ImageOps.pad, bilinear)",
        "stretch": f"scale both sides to {size} px (PIL Image.resize, bilinear)",
    }
    return {
        "resize": policy,
        "size": size,
        "fill": fill,
        "channels": channels,
        "channel_order": "L" if channels == 1 else "RGB",
        "steps": [
            "EXIF orientation applied (PIL ImageOps.exif_transpose)",
            "16-bit scaled to 8 bits; alpha composited over white; converted to "
            + ("greyscale L" if channels == 1 else "RGB"),
            steps[policy],
            "uint8 HWC -> float32 CHW in [0, 1] (/ 255), minus mean, divided by std",
        ],
    }
