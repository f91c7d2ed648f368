"""The GPU paths of shiftnas, checked on one CUDA machine, with its device fingerprint.

    python benchmarks/gpu_check.py [--out PATH] [--budget-s 420] [--skip pytest]

On CUDA: `shiftnas doctor`'s report; the GPU-marked tests; a fair supernet run (13 paths a step)
of `--steps` steps at batch 128 on 32x32x3 `shapes` images (CIFAR-10-sized) with AMP and
channels-last (images/s over all steps after the first epoch, peak GPU memory); the `torch`
latency backend (CUDA events) building and validating an `mbv3` lookup table at batch 1 and 64
on 20 random networks (within-5% share, Spearman); one `mbv3` network's fp16 and fp32 latency;
and the onnxruntime-gpu / TensorRT backends, each measured or reported "not available on this
machine". Writes benchmarks/results/gpu_check.json after every section, so a run cut short keeps
what it measured; a section that would start past `--budget-s` is recorded as skipped.

Without CUDA it runs the same sections with tiny settings (a 2-layer space on 16x16 inputs, a few
steps and runs; under a minute on a CPU) into benchmarks/results/gpu_check_cpu.json: the check
of the script itself that CI runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info

from shiftnas.errors import ShiftnasError
from shiftnas.files import write_json_atomic

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NOT_AVAILABLE = "not available on this machine"
SECTIONS = ("fingerprint", "doctor", "pytest", "supernet", "latency", "fp16_vs_fp32", "runtimes")


@dataclass(frozen=True)
class Settings:
    """How much each section does: full on CUDA, tiny for the CPU fallback."""

    device: str
    space: dict[str, Any]  # overrides of the mbv3 space (empty: the default 12-layer skeleton)
    steps: int
    steps_per_epoch: int
    batch: int
    warmup: int
    runs: int
    passes: int
    calibration: int
    networks: int
    batches: tuple[int, ...]


CUDA = Settings("cuda", {}, 300, 50, 128, 20, 100, 3, 10, 20, (1, 64))
CPU = Settings(
    "cpu",
    {"layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}],
     "stem_channels": 8, "head_channels": 32, "input_size": 16},
    steps=4, steps_per_epoch=2, batch=16, warmup=2, runs=5, passes=2, calibration=3,
    networks=4, batches=(1, 4),
)  # fmt: skip


def space_of(settings: Settings):  # type: ignore[no-untyped-def]
    from shiftnas.search import get_space

    return get_space("mbv3", **settings.space)


def fingerprint(settings: Settings) -> dict[str, Any]:
    from shiftnas.profiling import device_fingerprint, library_versions

    extra = ("torchvision", "pydantic", "pymoo", "fvcore", "mlflow", "nvidia-ml-py", "scipy")
    info: dict[str, Any] = {"machine": machine_info(), "versions": library_versions()}
    info["versions"].update(library_versions(extra))
    try:
        info["device"] = device_fingerprint("torch")
    except ShiftnasError as err:  # no NVML: what torch itself knows
        info["device"] = {"error": str(err)}
    if settings.device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info["torch_cuda"] = {
            "name": props.name, "capability": f"{props.major}.{props.minor}",
            "memory_gib": round(props.total_memory / 2**30, 1), "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "count": torch.cuda.device_count(),
        }  # fmt: skip
    return info


def doctor(settings: Settings) -> dict[str, Any]:
    from shiftnas.doctor import diagnose

    with tempfile.TemporaryDirectory() as tmp:
        return diagnose(Path(tmp) / "run").to_dict()


def gpu_tests(settings: Settings) -> dict[str, Any]:
    """The GPU-marked tests (run in a child pytest; on a CPU they all skip)."""
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                   if "mark.gpu" in p.read_text(encoding="utf-8"))  # fmt: skip
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-m", "gpu", "-p", "no:cacheprovider"]
    done = subprocess.run([*command, *files], cwd=ROOT, capture_output=True, text=True, timeout=240)
    lines = done.stdout.strip().splitlines()
    return {"files": files, "exit_code": done.returncode, "summary": lines[-1] if lines else "",
            "tail": lines[-15:]}  # fmt: skip


def supernet(settings: Settings) -> dict[str, Any]:
    """Fair sampling through the real training loop; throughput after the first epoch."""
    from shiftnas.data import load_data
    from shiftnas.data.settings import DataConfig, ShapesConfig
    from shiftnas.search.supernet import Supernet
    from shiftnas.training import train
    from shiftnas.training.settings import SupernetConfig
    from shiftnas.training.supernet import step_paths, supernet_step

    space = space_of(settings)
    size = space.settings.input_size
    train_images = settings.batch * settings.steps_per_epoch
    # 0.8 of the images train (val_fraction 0.2); the stratified split rounds per class
    shapes = ShapesConfig(train_size=round(train_images / 0.8) + 10, test_size=10, image_size=size)
    data = load_data(DataConfig(dataset="shapes", shapes=shapes), seed=0)
    config = SupernetConfig(epochs=settings.steps // settings.steps_per_epoch, lr=0.05,
                            batch_size=settings.batch, amp=True, channels_last=True,
                            checkpoint_every_steps=10**6)  # fmt: skip
    device = torch.device(settings.device)
    stamps: list[tuple[int, float]] = []  # (steps done, time) at each epoch's end
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    torch.manual_seed(0)
    model, step_fn = Supernet(space), supernet_step(space, "fair", 0, config.label_smoothing)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = train(model, step_fn, data, config, Path(tmp), device=device, progress=False,
                       on_epoch=lambda r: stamps.append((r["step"], time.perf_counter())),
                       )  # fmt: skip
    timed_steps = stamps[-1][0] - stamps[0][0]
    seconds = stamps[-1][1] - stamps[0][1]
    paths = len(step_paths(space, "fair", 0, 0))
    return {
        "sampling": "fair", "paths_per_step": paths, "steps": result.steps,
        "batch": settings.batch, "input": [3, size, size], "amp": device.type == "cuda",
        "channels_last": True, "timed_steps": timed_steps,
        "images_per_s": round(timed_steps * settings.batch / seconds, 1),
        "path_images_per_s": round(timed_steps * settings.batch * paths / seconds, 1),
        "first_epoch_s": round(stamps[0][1] - started, 2),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
        if device.type == "cuda" else None,
        "train_loss_per_epoch": [round(r["train_loss"], 4) for r in result.history],
    }  # fmt: skip


def latency(settings: Settings) -> dict[str, Any]:
    """A lookup table on the torch backend at each batch size, validated on random networks."""
    from shiftnas.profiling import build_table, get_backend, validate_table

    space, out = space_of(settings), {}
    keep = ("within_5pct", "within_10pct", "mape", "spearman", "worst_error", "noise_floor",
            "measured_ms_range", "calibration", "validate_seconds")  # fmt: skip
    for batch in settings.batches:
        backend = get_backend("torch", batch_size=batch, warmup=settings.warmup, runs=settings.runs)
        with tempfile.TemporaryDirectory() as tmp:
            table = build_table(space, backend, Path(tmp) / "lut.json", passes=settings.passes,
                                calibration_networks=settings.calibration)  # fmt: skip
        result = validate_table(
            table, space, n=settings.networks, seed=1, repeats=2, backend=backend
        )
        out[f"batch{batch}"] = {
            "entries": len(table.entries), "build_seconds": round(table.build_seconds, 1),
            "networks": settings.networks, "protocol": backend.settings(),
            **{k: result[k] for k in keep},
        }  # fmt: skip
    return out


def fp16_vs_fp32(settings: Settings) -> dict[str, Any]:
    from shiftnas.profiling import get_backend

    space = space_of(settings)
    arch = space.sample(np.random.default_rng(0))
    size = space.settings.input_size
    out: dict[str, Any] = {"arch": space.to_string(arch)}
    for batch in settings.batches:
        row: dict[str, Any] = {}
        for precision in ("fp32", "fp16"):
            try:
                backend = get_backend("torch", batch_size=batch, warmup=settings.warmup,
                                      runs=settings.runs, precision=precision)  # fmt: skip
            except ShiftnasError as err:
                row[precision] = {"status": NOT_AVAILABLE, "reason": str(err)}
                continue
            result = backend.measure(space.build(arch), (batch, 3, size, size))
            row[precision] = {"median_ms": result.median_ms, "p10_ms": result.p10_ms}
        if "median_ms" in row["fp16"]:
            row["fp32_over_fp16"] = round(row["fp32"]["median_ms"] / row["fp16"]["median_ms"], 3)
        out[f"batch{batch}"] = row
    return out


def runtimes(settings: Settings) -> dict[str, Any]:
    """onnxruntime-gpu and TensorRT: one network's latency where present, else why not."""
    from shiftnas.profiling import get_backend

    space = space_of(settings)
    net = space.build(space.sample(np.random.default_rng(0)))
    size, out = space.settings.input_size, {}
    for name in ("ort-cuda", "ort-tensorrt", "tensorrt"):
        try:
            backend = get_backend(name, warmup=settings.warmup, runs=settings.runs)
        except ShiftnasError as err:
            out[name] = {"status": NOT_AVAILABLE, "reason": str(err)}
            continue
        result = backend.measure(net, (1, 3, size, size))
        out[name] = {"status": "measured", "batch": 1, "median_ms": result.median_ms}
    return out


RUNNERS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "fingerprint": fingerprint, "doctor": doctor, "pytest": gpu_tests, "supernet": supernet,
    "latency": latency, "fp16_vs_fp32": fp16_vs_fp32, "runtimes": runtimes,
}  # fmt: skip


def run(settings: Settings, out: Path, budget_s: float, skip: set[str]) -> dict[str, Any]:
    """Every section in turn, the JSON rewritten after each; an error is recorded, not raised."""
    begun = time.perf_counter()
    report: dict[str, Any] = {"mode": settings.device, "settings": asdict(settings),
                              "budget_s": budget_s, "sections": {}}  # fmt: skip
    for name in SECTIONS:
        elapsed = time.perf_counter() - begun
        if name in skip:
            section = {"skipped": "--skip"}
        elif elapsed > budget_s:
            section = {"skipped": f"time budget of {budget_s:.0f} s spent"}
        else:
            try:
                section = RUNNERS[name](settings)
            except Exception as err:  # one broken path must not cost the others
                section = {"error": f"{type(err).__name__}: {err}"}
            section["seconds"] = round(time.perf_counter() - begun - elapsed, 1)
        report["sections"][name] = section
        report["total_seconds"] = round(time.perf_counter() - begun, 1)
        write_json_atomic(out, report)
        print(f"{name}: {section.get('seconds', '-')} s", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="result JSON")
    parser.add_argument("--budget-s", type=float, default=420.0, help="start no section later")
    parser.add_argument("--skip", action="append", default=[], choices=SECTIONS)
    args = parser.parse_args()
    settings = CUDA if torch.cuda.is_available() else CPU
    if settings is CPU:
        torch.set_num_threads(1)
    name = "gpu_check.json" if settings is CUDA else "gpu_check_cpu.json"
    run(settings, args.out or RESULTS / name, args.budget_s, set(args.skip))


if __name__ == "__main__":
    main()
