"""`imagefolder`: `root/{train,test}/<class>/<image>` decoded once into uint8 tensors."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shiftnas.data.dataset import ImageData
from shiftnas.errors import ShiftnasError
from shiftnas.files import torch_save_atomic

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp", ".tif", ".tiff"}


def _list_split(root: Path, split: str) -> tuple[list[Path], list[int], tuple[str, ...]]:
    folder = root / split
    if not folder.is_dir():
        raise ShiftnasError(
            f"image folder {root} has no '{split}/' sub-folder: lay it out as "
            f"{root}/{split}/<class>/<image>"
        )
    classes = tuple(sorted(d.name for d in folder.iterdir() if d.is_dir()))
    if not classes:
        raise ShiftnasError(
            f"{folder} has no class sub-folders: put each class's images in {folder}/<class>/"
        )
    paths, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        paths += files
        labels += [label] * len(files)
    if not paths:
        raise ShiftnasError(
            f"{folder} has class folders but no images ({', '.join(IMAGE_SUFFIXES)})"
        )
    return paths, labels, classes


def _read(path: Path) -> np.ndarray:
    """One image as `(H, W, 3)` uint8; a file PIL cannot decode is one line naming it."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ShiftnasError(
            f"{path} is not a readable image ({reason}): replace or remove the file"
        ) from None


def _decode(paths: list[Path]) -> np.ndarray:
    arrays = [_read(p) for p in paths]
    first = arrays[0].shape
    odd = next((p for p, a in zip(paths, arrays, strict=True) if a.shape != first), None)
    if odd is not None:
        h, w = first[:2]
        raise ShiftnasError(
            f"{odd} differs in size from {paths[0]} ({h}x{w} px): resize all images to one size"
        )
    return np.stack(arrays)  # (n, H, W, 3)


def _decode_all(paths: list[Path], workers: int) -> torch.Tensor:
    chunks = [paths[i : i + 2000] for i in range(0, len(paths), 2000)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            arrays = list(pool.map(_decode, chunks))
    else:
        arrays = [_decode(c) for c in chunks]
    if len({a.shape[1:] for a in arrays}) != 1:
        raise ShiftnasError("images differ in size across the folder: resize them to one size")
    return torch.from_numpy(np.concatenate(arrays)).permute(0, 3, 1, 2).contiguous()


def _cache_key(root: Path, split: str, paths: list[Path]) -> str:
    digest = hashlib.sha1(f"{root.resolve()}|{split}|{len(paths)}".encode())
    for p in paths[:: max(1, len(paths) // 64)]:
        digest.update(f"{p.name}:{p.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def load_imagefolder(
    root: str | Path, split: str, cache_dir: str | Path | None = None, workers: int | None = None
) -> ImageData:
    """Decode every image of `root/split` once; with `cache_dir`, later loads read one file."""
    root = Path(root)
    if not root.is_dir():
        raise ShiftnasError(f"data root {root} does not exist: set data.root to the image folder")
    paths, labels, classes = _list_split(root, split)
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"imagefolder-{_cache_key(root, split, paths)}.pt"
        if cache.exists():
            saved = torch.load(cache, weights_only=True)
            return ImageData(saved["images"], saved["labels"], tuple(saved["classes"]))
    images = _decode_all(paths, workers or min(4, os.cpu_count() or 1))
    data = ImageData(images, torch.tensor(labels, dtype=torch.int64), classes)
    if cache is not None:
        torch_save_atomic(
            cache, {"images": images, "labels": data.labels, "classes": list(classes)}
        )
    return data
