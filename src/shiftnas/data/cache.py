"""Decoded images in a memory-mapped `.npy` file: decoded once, by parallel workers, resumable.

A cache entry is a folder `<cache>/<key>/`, the key a hash of the source files (paths, sizes,
mtimes) and the decode settings (`DecodeSpec`). In it:

- `images.npy`: uint8 `(N, C, H, W)`, made with `numpy.lib.format.open_memmap` before the first
  image is decoded; each worker writes its chunk's rows in place.
- `done.npy`: bool `(chunks,)`, set (and flushed) after a chunk's rows are on disk: a killed
  decode resumes at the first chunk not done.
- `bad.jsonl`: one line per chunk with its unreadable files (`[index, reason]`).
- `meta.json`: written last (atomically): the entry is complete.

Readers map the file copy-on-write (`mmap_mode="c"`): pages come from the page cache and count
against no process's anonymous memory, so a data set larger than RAM trains at page-cache speed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from shiftnas.data.decode import UnreadableImage, decode_image
from shiftnas.files import append_jsonl, read_jsonl, write_json_atomic
from shiftnas.progress import make_progress

CHUNK = 256  # images a worker decodes per task; the unit of resume
CACHE_FORMAT = "shiftnas-image-cache/1"
WRONG_SIZE = "!size "  # the reason of an image decoded at another size (resize: none)


@dataclass(frozen=True)
class DecodeSpec:
    """How every image is decoded: `decode_image(path, size, policy, channels, fill)`."""

    policy: str
    size: int | None  # None only with policy "none": the first image's size then
    channels: int
    fill: int = 0


def default_cache_dir() -> Path:
    """`$SHIFTNAS_CACHE`, else `$XDG_CACHE_HOME/shiftnas`, else `~/.cache/shiftnas`."""
    if os.environ.get("SHIFTNAS_CACHE"):
        return Path(os.environ["SHIFTNAS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "shiftnas"


def files_key(paths: Sequence[Path], spec: DecodeSpec, extra: str = "") -> str:
    """A hash of the files (resolved path, size, mtime in ns) and the decode settings."""
    digest = hashlib.sha256(json.dumps([CACHE_FORMAT, asdict(spec), extra]).encode())
    for path in paths:
        st = path.stat()
        digest.update(f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _decode_chunk(
    npy: Path, start: int, sources: list[Any], spec: DecodeSpec, shape: tuple[int, int, int]
) -> list[list[Any]]:
    """Decode `sources` into rows `start...` of the memmap at `npy`; returns `[[row, reason]]`
    for the images that could not be decoded or are not `shape` (their rows stay zero)."""
    images = np.load(npy, mmap_mode="r+")
    bad = []
    for offset, source in enumerate(sources):
        try:
            pixels = decode_image(source, spec.size, spec.policy, spec.channels, spec.fill)
        except UnreadableImage as err:
            bad.append([start + offset, str(err)])
            continue
        if pixels.shape != shape:
            bad.append([start + offset, f"{WRONG_SIZE}{pixels.shape[2]}x{pixels.shape[1]} px"])
            continue
        images[start + offset] = pixels
    images.flush()
    del images
    return bad


@dataclass(frozen=True)
class CachedImages:
    """A complete cache entry: `images` `(N, C, H, W)` uint8 memmap, `bad` `[[row, reason]]`."""

    images: np.ndarray
    bad: list[list[Any]]
    folder: Path


def decode_to_cache(
    folder: Path,
    sources: Sequence[Any],
    spec: DecodeSpec,
    shape: tuple[int, int, int],
    workers: int = 1,
    progress: bool = True,
    description: str = "decoding",
    load: Callable[[int], Any] | None = None,
) -> CachedImages:
    """Decode `sources` (paths, or indices that `load` turns into PIL images in this process)
    into `folder/images.npy`, resuming a killed decode; returns the complete entry."""
    folder.mkdir(parents=True, exist_ok=True)
    # one process decodes an entry at a time: search workers, torchrun ranks or two runs that
    # share a cache folder wait for it, then read the finished entry
    with FileLock(str(folder / "decode.lock")):
        return _decode_locked(folder, sources, spec, shape, workers, progress, description, load)


def _decode_locked(
    folder: Path, sources: Sequence[Any], spec: DecodeSpec, shape: tuple[int, int, int],
    workers: int, progress: bool, description: str, load: Callable[[int], Any] | None,
) -> CachedImages:  # fmt: skip
    npy, done_path, bad_path = folder / "images.npy", folder / "done.npy", folder / "bad.jsonl"
    n, chunks = len(sources), -(-len(sources) // CHUNK)
    if not (folder / "meta.json").exists():
        try:
            done = np.load(done_path, mmap_mode="r+")  # a decode that was killed: resume it
        except (OSError, ValueError):  # none yet, or cut off while being made: start afresh
            done = _start(npy, done_path, bad_path, (n, *shape), chunks)
        todo = [i for i in range(chunks) if not done[i]]
        finished_bad = (
            {rec["chunk"] for rec in read_jsonl(bad_path)} if bad_path.exists() else set()
        )

        def finish(chunk: int, bad: list[list[Any]]) -> None:
            if chunk not in finished_bad:
                append_jsonl(bad_path, {"chunk": chunk, "bad": bad})
            done[chunk] = True
            done.flush()

        with make_progress(progress) as bar:
            task = bar.add_task(description, total=n, completed=n - _count(todo, n))
            if load is None and workers > 1 and len(todo) > 1:
                with ProcessPoolExecutor(workers) as pool:
                    futures = {
                        pool.submit(_decode_chunk, npy, c * CHUNK,
                                    list(sources[c * CHUNK : (c + 1) * CHUNK]), spec, shape): c
                        for c in todo
                    }  # fmt: skip
                    for future in as_completed(futures):
                        chunk = futures[future]
                        finish(chunk, future.result())
                        bar.advance(task, _count([chunk], n))
            else:
                for chunk in todo:
                    part = sources[chunk * CHUNK : (chunk + 1) * CHUNK]
                    items = [load(i) for i in part] if load is not None else list(part)
                    finish(chunk, _decode_chunk(npy, chunk * CHUNK, items, spec, shape))
                    bar.advance(task, _count([chunk], n))
        del done
        bad = sorted(b for rec in read_jsonl(bad_path) for b in rec["bad"])
        write_json_atomic(folder / "meta.json", {"format": CACHE_FORMAT, "count": n,
                                                 "shape": list(shape), "spec": asdict(spec),
                                                 "bad": bad})  # fmt: skip
    meta = json.loads((folder / "meta.json").read_text())
    return CachedImages(np.load(npy, mmap_mode="c"), meta["bad"], folder)


def _start(
    npy: Path, done_path: Path, bad_path: Path, shape: tuple[int, ...], chunks: int
) -> np.ndarray:
    """A new entry: `images.npy` allocated on disk in full (a full disk is an `OSError` now,
    not a SIGBUS when a worker writes into a sparse mapping), then `done.npy`, all False."""
    done_path.unlink(missing_ok=True)
    bad_path.unlink(missing_ok=True)
    np.lib.format.open_memmap(npy, mode="w+", dtype=np.uint8, shape=shape).flush()
    with open(npy, "r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(handle.fileno(), 0, size)
    np.lib.format.open_memmap(done_path, mode="w+", dtype=np.bool_, shape=(chunks,)).flush()
    return np.load(done_path, mmap_mode="r+")


def _count(chunks: list[int], n: int) -> int:
    return sum(min(CHUNK, n - c * CHUNK) for c in chunks)
