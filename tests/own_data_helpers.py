"""Small image folders of mixed sizes and formats, built in tmp_path for the own-data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220)}


def photo(colour: tuple[int, int, int], w: int, h: int, seed: int) -> Image.Image:
    """A `w` x `h` RGB image of `colour` with a little noise."""
    rng = np.random.default_rng(seed)
    base = np.array(colour, dtype=np.int16)[None, None, :]
    noise = rng.integers(-20, 21, (h, w, 3), dtype=np.int16)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def mixed_folder(root: Path, per_class: int = 6, layout: str = "split") -> Path:
    """Two classes (red, blue) of images 20-90 px wide and high, JPEG and PNG; `layout` "split"
    gives train/ and test/ (a third of each class in test), "single" one folder of classes."""
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        for i in range(per_class):
            split = ("test" if i % 3 == 0 else "train") if layout == "split" else ""
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            w, h = (int(v) for v in rng.integers(20, 90, 2))
            suffix = ".png" if i % 2 else ".jpg"
            photo(colour, w, h, seed=i).save(folder / f"{i}{suffix}")
    return root
