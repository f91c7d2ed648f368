"""The decoded-image cache (issue 26): a memory-mapped file written by parallel workers, that a
killed decode resumes, that splits read through without copying, and that a changed file or
setting invalidates."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from own_data_helpers import mixed_folder

import shiftnas.data.cache as cache_module
from shiftnas.data import load_data
from shiftnas.data.cache import DecodeSpec, decode_to_cache
from shiftnas.data.settings import DataConfig
from shiftnas.search.spaces.settings import Mbv3Settings

SPACE = Mbv3Settings(input_size=16)


def _paths(tmp_path, n_per_class):
    folder = mixed_folder(tmp_path / "photos", per_class=n_per_class, layout="single")
    return sorted(folder.rglob("*.*"))


def test_a_killed_decode_resumes_where_it_stopped(tmp_path, monkeypatch):
    paths = _paths(tmp_path, 20)  # 40 images, chunks of 8: 5 chunks
    monkeypatch.setattr(cache_module, "CHUNK", 8)
    spec, shape = DecodeSpec("stretch", 16, 3), (3, 16, 16)
    fresh = decode_to_cache(tmp_path / "fresh", paths, spec, shape, workers=1, progress=False)
    real, calls = cache_module._decode_chunk, []

    def dies_after_two(npy, start, sources, spec, shape):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the kill, between two chunks
        calls.append(start)
        return real(npy, start, sources, spec, shape)

    monkeypatch.setattr(cache_module, "_decode_chunk", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        decode_to_cache(tmp_path / "c", paths, spec, shape, workers=1, progress=False)
    assert not (tmp_path / "c" / "meta.json").exists()
    calls.clear()
    monkeypatch.setattr(cache_module, "_decode_chunk", lambda *a: calls.append(a[1]) or real(*a))
    resumed = decode_to_cache(tmp_path / "c", paths, spec, shape, workers=1, progress=False)
    assert calls == [16, 24, 32]  # only the three chunks not done before the kill
    assert np.array_equal(resumed.images, fresh.images)


def test_parallel_workers_write_the_same_bytes(tmp_path, monkeypatch):
    paths = _paths(tmp_path, 20)
    monkeypatch.setattr(cache_module, "CHUNK", 8)
    spec, shape = DecodeSpec("center_crop", 16, 3), (3, 16, 16)
    one = decode_to_cache(tmp_path / "one", paths, spec, shape, workers=1, progress=False)
    two = decode_to_cache(tmp_path / "two", paths, spec, shape, workers=2, progress=False)
    assert np.array_equal(one.images, two.images) and one.images.any()


def test_splits_read_through_the_memory_map_without_copies(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=9)
    config = DataConfig(dataset="imagefolder", root=folder, resize="pad", cache_dir=tmp_path / "k")
    splits = load_data(config, 0, SPACE)
    assert len(list((tmp_path / "k").glob("*/images.npy"))) == 2  # train and test
    # train and val are rows of one mapped array (the same storage), not copies
    assert splits.train.pixels.data_ptr() == splits.val.pixels.data_ptr()
    assert len(splits.train.pixels) == len(splits.train) + len(splits.val)
    with open("/proc/self/maps") as maps:
        mapped = {line.split()[-1] for line in maps if "images.npy" in line}
    assert any(str(tmp_path / "k") in m for m in mapped)
    again = load_data(config, 0, SPACE)
    assert torch.equal(again.train.images, splits.train.images)


def test_a_changed_file_or_setting_decodes_again(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=6)
    config = DataConfig(dataset="imagefolder", root=folder, resize="pad", cache_dir=tmp_path / "k")
    load_data(config, 0, SPACE)
    entries = set((tmp_path / "k").iterdir())
    assert len(entries) == 2  # train and test
    load_data(config, 0, SPACE)
    assert set((tmp_path / "k").iterdir()) == entries
    load_data(config.model_copy(update={"resize": "stretch"}), 0, SPACE)
    assert len(set((tmp_path / "k").iterdir())) == 4
    some = next((folder / "test" / "red").iterdir())
    os.utime(some, ns=(some.stat().st_atime_ns, some.stat().st_mtime_ns + 10**9))
    load_data(config, 0, SPACE)
    assert len(set((tmp_path / "k").iterdir())) == 5  # the test split only


KILLED_CHILD = """
import sys, time
import shiftnas.data.cache as cache
from pathlib import Path
cache.CHUNK = 8
real = cache._decode_chunk
def slow(*args):
    time.sleep(0.3)
    return real(*args)
cache._decode_chunk = slow
paths = [Path(p) for p in sys.argv[2:]]
cache.decode_to_cache(Path(sys.argv[1]), paths, cache.DecodeSpec("stretch", 16, 3), (3, 16, 16),
                      workers=1, progress=False)
"""


def test_a_decode_killed_with_sigkill_resumes(tmp_path, monkeypatch):
    """A real kill (SIGKILL of the decoding process after 2 of 5 chunks) loses nothing done."""
    import signal
    import subprocess
    import sys
    import time

    paths = _paths(tmp_path, 20)  # 40 images: 5 chunks of 8
    folder = tmp_path / "c"
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(folder), *map(str, paths)])
    deadline = time.time() + 60
    while time.time() < deadline:
        if (folder / "done.npy").exists() and np.load(folder / "done.npy").sum() >= 2:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    done_before = int(np.load(folder / "done.npy").sum())
    assert 2 <= done_before < 5 and not (folder / "meta.json").exists()
    monkeypatch.setattr(cache_module, "CHUNK", 8)
    real, calls = cache_module._decode_chunk, []
    monkeypatch.setattr(cache_module, "_decode_chunk", lambda *a: calls.append(a[1]) or real(*a))
    spec, shape = DecodeSpec("stretch", 16, 3), (3, 16, 16)
    resumed = decode_to_cache(folder, paths, spec, shape, workers=1, progress=False)
    assert len(calls) == 5 - done_before  # only the chunks not done before the kill
    monkeypatch.setattr(cache_module, "_decode_chunk", real)
    fresh = decode_to_cache(tmp_path / "fresh", paths, spec, shape, workers=1, progress=False)
    assert np.array_equal(resumed.images, fresh.images)


def _decode_in_child(args):
    folder, paths = args
    spec, shape = DecodeSpec("stretch", 16, 3), (3, 16, 16)
    images = decode_to_cache(folder, paths, spec, shape, workers=1, progress=False)
    return np.asarray(images.images).copy()


def test_two_processes_decoding_one_entry_wait_for_each_other(tmp_path):
    """Two processes starting the same entry at once (two search workers, two torchrun ranks)
    used to truncate each other's file (posix_fallocate: EINVAL). Now a second process waits
    while one decodes (here: while this test holds the entry's lock), then reads the same
    images as a decode of its own."""
    import multiprocessing
    import time

    from filelock import FileLock

    paths = _paths(tmp_path, 20)
    folder = tmp_path / "shared"
    folder.mkdir()
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        with FileLock(str(folder / "decode.lock")):
            pending = pool.apply_async(_decode_in_child, ((folder, paths),))
            time.sleep(1.5)
            assert not (folder / "images.npy").exists() and not pending.ready()
        waited = pending.get(timeout=120)
    alone = _decode_in_child((tmp_path / "alone", paths))
    assert np.array_equal(waited, alone)
