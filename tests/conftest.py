"""Shared fixtures: tiny spaces and datasets, and the location of ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CIFAR_JPEG = SHARED / "datasets" / "cifar10-jpeg"
NB201_DEV = SHARED / "benchmarks" / "nb201_cifar10_dev.csv"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is absent")


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory, monkeypatch):
    """Decoded image caches go to a per-session temporary folder, never ~/.cache."""
    monkeypatch.setenv("SHIFTNAS_CACHE", str(tmp_path_factory.getbasetemp() / "image-cache"))


@pytest.fixture(autouse=True)
def _single_thread():
    """Tests are small: one thread keeps them fast and free of thread-count nondeterminism."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_layers() -> list[dict]:
    return [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]


@pytest.fixture
def tiny_space():
    from shiftnas.search import get_space

    return get_space("mbv3", stem_channels=8, layers=tiny_layers(), head_channels=32, input_size=16)


@pytest.fixture
def tiny_data():
    from shiftnas.data import load_data
    from shiftnas.data.settings import DataConfig, ShapesConfig

    return load_data(
        DataConfig(
            dataset="shapes", shapes=ShapesConfig(train_size=100, test_size=40, image_size=16)
        ),
        seed=0,
    )


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised, empty MLflow SQLite store for the tracking tests to copy (creating one
    runs MLflow's schema migrations: 2-10 s of CPU)."""
    from tracking_helpers import init_store

    return init_store(tmp_path_factory.mktemp("template") / "mlflow.db")


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory):
    """The documentation site, built once for every test under tests/docs (a conftest of its
    own there would shadow this module, which tests import as `conftest`)."""
    from docs_helpers import build_site

    return build_site(tmp_path_factory.mktemp("docs") / "site")
