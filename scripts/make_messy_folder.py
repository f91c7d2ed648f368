"""Build a messy image folder from an image folder such as the CIFAR-10 JPEGs: what users bring.

Each image is upscaled to a random size of 40-400 px with a random aspect ratio (0.6-1.67),
and saved as JPEG (most), PNG, greyscale JPEG, CMYK JPEG, RGBA PNG, 16-bit greyscale PNG or an
EXIF-rotated JPEG (pixels stored sideways, orientation tag 6 or 8: upright once the tag is
applied); one file in train/ is corrupt. Layout: `OUT/{train,test}/<class>/<n>.<ext>`.

    python scripts/make_messy_folder.py --source ../shared/datasets/cifar10-jpeg \\
        --out data/messy-cifar10 --train-per-class 200 --test-per-class 50

Deterministic under `--seed`. Then `shiftnas run configs/own-data-64.yaml` runs every stage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

KINDS = ("jpeg", "png", "grey", "cmyk", "rgba", "png16", "exif")
WEIGHTS = (0.55, 0.15, 0.06, 0.06, 0.06, 0.04, 0.08)


def save_messy(image: Image.Image, out: Path, kind: str, rng: np.random.Generator) -> Path:
    """`image` (RGB) written as `kind`; returns the path (its suffix follows the format)."""
    if kind == "png":
        image.save(path := out.with_suffix(".png"))
    elif kind == "grey":
        image.convert("L").save(path := out.with_suffix(".jpg"), quality=90)
    elif kind == "cmyk":
        image.convert("CMYK").save(path := out.with_suffix(".jpg"), quality=90)
    elif kind == "rgba":
        rgba = image.convert("RGBA")
        rgba.putalpha(255)
        rgba.save(path := out.with_suffix(".png"))
    elif kind == "png16":
        grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257  # 0-65535
        Image.fromarray(grey).save(path := out.with_suffix(".png"))
    elif kind == "exif":
        # orientation 6: the viewer rotates 90 degrees clockwise, so store it counter-clockwise
        orientation = int(rng.choice([6, 8]))
        stored = image.transpose(
            Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270
        )
        exif = Image.Exif()
        exif[0x0112] = orientation
        stored.save(path := out.with_suffix(".jpg"), quality=90, exif=exif.tobytes())
    else:
        image.save(path := out.with_suffix(".jpg"), quality=int(rng.integers(70, 96)))
    return path


def messy_copy(src: Path, out: Path, rng: np.random.Generator) -> Path:
    with Image.open(src) as opened:
        image = opened.convert("RGB")
    side = float(rng.uniform(40, 400))
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1 / 0.6))))
    w, h = max(8, round(side * aspect**0.5)), max(8, round(side / aspect**0.5))
    image = image.resize((w, h), Image.Resampling.BICUBIC)
    kind = str(rng.choice(KINDS, p=WEIGHTS))
    return save_messy(image, out, kind, rng)


def build(source: Path, out: Path, per_split: dict[str, int], seed: int, classes: int) -> int:
    """Writes the folder; returns the number of files written (the corrupt one included)."""
    rng = np.random.default_rng(seed)
    written = 0
    for split, count in per_split.items():
        names = sorted(d.name for d in (source / split).iterdir() if d.is_dir())[:classes]
        for name in names:
            files = sorted((source / split / name).iterdir())
            picked = rng.choice(len(files), size=min(count, len(files)), replace=False)
            (out / split / name).mkdir(parents=True, exist_ok=True)
            for n, i in enumerate(sorted(picked)):
                messy_copy(files[i], out / split / name / f"{n:05d}", rng)
                written += 1
    first = sorted((out / "train").iterdir())[0]
    (first / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated, not an image")
    return written + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/datasets/cifar10-jpeg"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--train-per-class", type=int, default=200)
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument("--classes", type=int, default=10, help="the first N classes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.source / "train").is_dir() or not (args.source / "test").is_dir():
        print(f"error: {args.source} has no train/ and test/: pass --source", file=sys.stderr)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty: pass a new --out folder", file=sys.stderr)
        return 2
    per_split = {"train": args.train_per_class, "test": args.test_per_class}
    n = build(args.source, args.out, per_split, args.seed, args.classes)
    print(f"{n} files in {args.out} (one corrupt: train/*/corrupt.jpg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
