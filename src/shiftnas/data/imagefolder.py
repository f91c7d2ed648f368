"""Image files (an image folder or a CSV's list) decoded once into the memory-mapped cache."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from shiftnas.data.cache import (
    WRONG_SIZE,
    DecodeSpec,
    decode_to_cache,
    default_cache_dir,
    files_key,
)
from shiftnas.data.dataset import ImageData
from shiftnas.data.decode import UnreadableImage, decode_image
from shiftnas.data.sources import Listing, class_folder
from shiftnas.errors import ShiftnasError

RESIZE_FIX = "set data.resize: center_crop (or pad, stretch) to resize them to one size"


def _first_shape(listing: Listing, spec: DecodeSpec) -> tuple[tuple[int, int, int], Path]:
    """The `(C, H, W)` every image must have: the target size, or the first readable image's."""
    if spec.policy != "none":
        assert spec.size is not None
        return (spec.channels, spec.size, spec.size), listing.items[0]
    for path in listing.items:
        try:
            pixels = decode_image(path, None, "none", spec.channels)
        except UnreadableImage:
            continue
        return (int(pixels.shape[0]), int(pixels.shape[1]), int(pixels.shape[2])), path
    return (spec.channels, 1, 1), listing.items[0]


def _header_size(path: Path) -> tuple[int, int] | None:
    """`(H, W)` from the file's header, upright by its EXIF orientation; None if unreadable."""
    try:
        with Image.open(path) as image:
            w, h = image.size
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return (w, h) if turned else (h, w)


def _check_one_size(listing: Listing, shape: tuple[int, int, int], first: Path) -> None:
    """With resize "none", every image must be `shape`: read from the headers (milliseconds per
    thousand files), before any pixel is decoded."""
    wrong = [p for p in listing.items if _header_size(p) not in (None, shape[1:])]
    if wrong:
        raise ShiftnasError(
            f"{wrong[0]} differs in size from {first} ({shape[1]}x{shape[2]} px; {len(wrong)} of "
            f"{len(listing.items)} images differ): {RESIZE_FIX}"
        )


def unreadable_report(bad: list[tuple[Path, str]], total: int) -> str:
    """`N of M files are not readable images (first: path (reason); ...)`, or the one file."""

    def why(path: Path, reason: str) -> str:  # Pillow repeats the path: say it once
        return reason.replace(f" {str(path)!r}", "").replace(f" {path}", "")

    if len(bad) == 1:
        return f"{bad[0][0]} is not a readable image ({why(*bad[0])})"
    shown = "; ".join(f"{path} ({why(path, reason)})" for path, reason in bad[:3])
    more = f"; +{len(bad) - 3} more" if len(bad) > 3 else ""
    return f"{len(bad)} of {total} files are not readable images (first: {shown}{more})"


def load_listing(
    listing: Listing,
    spec: DecodeSpec,
    cache_dir: Path | None = None,
    workers: int | None = None,
    unreadable: str = "stop",
    progress: bool = False,
    description: str = "decoding",
) -> tuple[ImageData, list[tuple[Path, str]]]:
    """Decode every file of `listing` into the cache (once); returns the images and the files
    skipped as unreadable (`unreadable: "skip"`).

    Raises `ShiftnasError` (one line) listing the unreadable files (`unreadable: "stop"`), or
    naming an image of another size than the first when `spec.policy` is "none"."""
    shape, first = _first_shape(listing, spec)
    folder = Path(cache_dir or default_cache_dir()) / files_key(listing.items, spec)
    workers = workers or min(4, os.cpu_count() or 1)
    if spec.policy == "none" and not (folder / "meta.json").exists():
        _check_one_size(listing, shape, first)
    cached = decode_to_cache(folder, listing.items, spec, shape, workers, progress, description)
    wrong = [(listing.items[i], r) for i, r in cached.bad if r.startswith(WRONG_SIZE)]
    if wrong:
        _, h, w = shape
        raise ShiftnasError(
            f"{wrong[0][0]} differs in size from {first} ({h}x{w} px; {len(wrong)} of "
            f"{len(listing.items)} images differ): {RESIZE_FIX}"
        )
    bad = [(listing.items[i], reason) for i, reason in cached.bad]
    if bad and unreadable == "stop":
        raise ShiftnasError(
            f"{unreadable_report(bad, len(listing.items))}: replace or remove "
            f"{'it' if len(bad) == 1 else 'them'}, or set data.unreadable: skip"
        )
    pixels = torch.from_numpy(cached.images)
    labels = torch.tensor(listing.labels, dtype=torch.int64)
    data = ImageData(pixels, labels, listing.classes)
    if bad:
        skipped = {i for i, _ in cached.bad}
        data = data.subset(torch.tensor([i for i in range(len(labels)) if i not in skipped]))
    return data, bad


def load_imagefolder(
    root: str | Path, split: str, cache_dir: str | Path | None = None, workers: int | None = None
) -> ImageData:
    """Every image of `root/split/<class>/` at its own size (resize "none"), decoded once."""
    root = Path(root)
    if not root.is_dir():
        raise ShiftnasError(f"data root {root} does not exist: set data.root to the image folder")
    if not (root / split).is_dir():
        raise ShiftnasError(
            f"image folder {root} has no '{split}/' sub-folder: lay it out as "
            f"{root}/{split}/<class>/<image>"
        )
    listing = class_folder(root / split)
    cache = Path(cache_dir) if cache_dir is not None else None
    return load_listing(listing, DecodeSpec("none", None, 3), cache, workers)[0]
