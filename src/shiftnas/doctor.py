"""What this machine can do with shiftnas: versions, GPUs, runtimes, backends, tracking, disk.

`diagnose(run_dir)` probes each piece without side effects beyond what a run would do anyway (it
applies `tune_cpu_allocator`, as every CPU training run does) and returns one `Check` per line of
`shiftnas doctor`. A missing piece carries the one command that installs it. The pieces the
default CPU path needs (`make run`: torch, the base libraries, onnxruntime's CPU provider, a
reachable tracking store, room on disk) are `required`; if any of them fails, the CLI exits 2.

Layer: above `tracking` and `profiling` (it probes both), below `cli`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MIN_PYTHON = (3, 10)
MIN_FREE_GIB = 1.0  # a quickstart run writes ~50 MB; CIFAR-10 runs write checkpoints of ~100 MB
TRACKING_TIMEOUT_S = 3.0
# (distribution, module) of the base dependencies whose absence stops the default pipeline
BASE_LIBRARIES = (
    ("pydantic", "pydantic"),
    ("fvcore", "fvcore"),
    ("pymoo", "pymoo"),
    ("onnx", "onnx"),
    ("mlflow", "mlflow"),
)


@dataclass
class Check:
    """One probed piece: `ok` with its `value`, or missing with `fix`, one line to run."""

    area: str
    name: str
    ok: bool
    value: str
    fix: str = ""
    required: bool = False  # needed by the default CPU path


@dataclass
class Report:
    checks: list[Check]

    @property
    def failures(self) -> list[Check]:
        """Required checks that failed: the default CPU path cannot run while any remain."""
        return [c for c in self.checks if c.required and not c.ok]

    @property
    def missing(self) -> list[Check]:
        """Every failed check that comes with a fix, required or optional."""
        return [c for c in self.checks if not c.ok and c.fix]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu_path_ok": not self.failures,
            "checks": [asdict(c) for c in self.checks],
            "missing": [f"{c.area} {c.name}: {c.fix}" for c in self.missing],
        }


def requirement(distribution: str) -> str:
    """The requirement string shiftnas declares for `distribution` (e.g. 'pymoo>=0.6.1'), or the
    bare name when shiftnas's metadata is not installed."""
    try:
        declared = importlib.metadata.requires("shiftnas") or []
    except importlib.metadata.PackageNotFoundError:
        declared = []
    for spec in declared:
        name = re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]
        if name.lower() == distribution.lower():
            return spec.split(";")[0].strip()
    return distribution


def _import(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _version(module: Any, distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", "unknown"))


def python_checks() -> list[Check]:
    ok = sys.version_info[:2] >= MIN_PYTHON
    fix = "" if ok else "use Python >= {}.{}".format(*MIN_PYTHON)
    return [Check("python", "python", ok, platform.python_version(), fix, required=True)]


def torch_checks() -> list[Check]:
    """torch and its CUDA build, then one check per GPU torch sees (name, memory, capability)."""
    torch = _import("torch")
    if torch is None:
        fix = f"pip install '{requirement('torch')}'"
        return [Check("torch", "torch", False, "not installed", fix, required=True)]
    checks = [Check("torch", "torch", True, torch.__version__, required=True)]
    cuda_build = torch.version.cuda
    available = torch.cuda.is_available()
    if cuda_build is None:
        checks.append(Check("torch", "CUDA", False, "CPU-only torch build"))
    else:
        cudnn = torch.backends.cudnn.version() if available else None
        value = f"{cuda_build} (cuDNN {cudnn})" if cudnn else cuda_build
        checks.append(Check("torch", "CUDA", available, value + ("" if available else ", no GPU")))
    if not available:
        return [*checks, Check("gpu", "GPUs", False, "none: torch sees no CUDA GPU")]
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        memory = props.total_memory / 2**30
        value = f"{props.name}, {memory:.1f} GiB, compute capability {props.major}.{props.minor}"
        checks.append(Check("gpu", f"cuda:{index}", True, value))
    return [*checks, _driver_check()]


def _driver_check() -> Check:
    pynvml = _import("pynvml")
    if pynvml is None:
        fix = "pip install 'shiftnas[gpu]' (nvidia-ml-py)"
        return Check("gpu", "driver", False, "unknown: NVML is not installed", fix)
    try:
        pynvml.nvmlInit()
        try:
            driver = pynvml.nvmlSystemGetDriverVersion()
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError as err:
        return Check("gpu", "driver", False, f"NVML failed: {err}")
    return Check("gpu", "driver", True, driver.decode() if isinstance(driver, bytes) else driver)


def runtime_checks() -> list[Check]:
    """onnxruntime (version, execution providers) and TensorRT."""
    ort = _import("onnxruntime")
    if ort is None:
        fix = "pip install 'shiftnas[cpu]' (or 'shiftnas[gpu]' on a CUDA machine)"
        checks = [Check("runtime", "onnxruntime", False, "not installed", fix, required=True)]
    else:
        providers = list(ort.get_available_providers())
        has_cpu = "CPUExecutionProvider" in providers
        value = f"{_version(ort, 'onnxruntime')}: {', '.join(providers)}"
        fix = "" if has_cpu else "pip install 'shiftnas[cpu]'"
        checks = [Check("runtime", "onnxruntime", has_cpu, value, fix, required=True)]
    trt = _import("tensorrt")
    if trt is None:
        fix = "pip install 'shiftnas[tensorrt]' (needs a CUDA GPU)"
        checks.append(Check("runtime", "tensorrt", False, "not installed", fix))
    else:
        checks.append(Check("runtime", "tensorrt", True, _version(trt, "tensorrt")))
    return checks


def library_checks() -> list[Check]:
    checks = []
    for distribution, module_name in BASE_LIBRARIES:
        module = _import(module_name)
        if module is None:
            fix = f"pip install '{requirement(distribution)}'"
            if distribution == "mlflow":
                fix += " (or set tracking.enabled: false in the config)"
            checks.append(Check("library", distribution, False, "not installed", fix, True))
        else:
            version = _version(module, distribution)
            checks.append(Check("library", distribution, True, version, required=True))
    return checks


def tracking_check(run_dir: Path) -> Check:
    """The store `shiftnas run` would log to: MLFLOW_TRACKING_URI, else SQLite in `run_dir`.

    An HTTP server must answer within `TRACKING_TIMEOUT_S`; a SQLite or file store must have a
    writable folder (the nearest existing one, since a run creates the rest).
    """
    try:
        from shiftnas.tracking.store import ENV_URI, default_uri, server_reachable
    except ImportError as err:
        fix = f"pip install '{requirement(err.name or 'pydantic')}'"
        return Check("tracking", "store", False, f"cannot load tracking: {err}", fix, True)
    uri = os.environ.get(ENV_URI) or default_uri(run_dir)
    if uri.startswith(("http://", "https://")):
        if _import("requests") is None:
            fix = f"pip install '{requirement('mlflow')}'"
            return Check("tracking", "store", False, f"{uri}: needs requests", fix, True)
        if server_reachable(uri, timeout=TRACKING_TIMEOUT_S):
            return Check("tracking", "store", True, f"{uri}: reachable", required=True)
        fix = f"start the MLflow server or unset {ENV_URI}"
        return Check("tracking", "store", False, f"{uri}: unreachable", fix, True)
    if "://" in uri and not uri.startswith(("sqlite:///", "file://")):
        return Check("tracking", "store", True, f"{uri}: not probed (scheme unknown to doctor)")
    path = Path(uri.removeprefix("sqlite:///").removeprefix("file://"))
    folder = _existing_ancestor(path.parent)
    if os.access(folder, os.W_OK):
        return Check("tracking", "store", True, f"{uri}: writable", required=True)
    fix = f"pass a writable --run-dir or set {ENV_URI}"
    return Check("tracking", "store", False, f"{uri}: {folder} is not writable", fix, True)


def backend_checks() -> list[Check]:
    """Which `shiftnas lut build --backend` names can run here; the others name their extra."""
    from shiftnas.errors import ShiftnasError

    try:
        from shiftnas.profiling.backends import get_backend, list_backends
    except ImportError as err:
        fix = f"pip install '{requirement(err.name or 'onnx')}'"
        return [Check("latency backend", "all", False, f"cannot load the backends: {err}", fix)]
    checks = []
    for name in list_backends():
        try:
            get_backend(name, warmup=0, runs=1)
        except ShiftnasError as err:
            reason, _, fix = str(err).partition(": pip install ")
            reason = re.sub(r"^backend '[^']+' ", "", reason)
            fix = "pip install " + fix if fix else ""
            checks.append(Check("latency backend", name, False, reason, fix))
        else:
            checks.append(Check("latency backend", name, True, "runs here"))
    return checks


def cpu_checks() -> list[Check]:
    from shiftnas.device import tune_cpu_allocator

    if tune_cpu_allocator():
        allocator = "glibc mallopt: large mmap threshold, 1 GiB trim threshold (kept on CPU runs)"
    else:
        allocator = f"untuned: {platform.libc_ver()[0] or 'non-glibc'} C library"
    torch = _import("torch")
    threads = torch.get_num_threads() if torch is not None else "?"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        Check("cpu", "allocator", True, allocator),
        Check("cpu", "threads", True, f"torch {threads} intra-op threads, {usable} usable cores"),
    ]


def disk_check(run_dir: Path) -> Check:
    folder = _existing_ancestor(Path(run_dir).resolve())
    usage = shutil.disk_usage(folder)
    free = usage.free / 2**30
    value = f"{free:.1f} GiB free of {usage.total / 2**30:.1f} GiB ({folder})"
    if free < MIN_FREE_GIB:
        fix = f"free space, or pass --run-dir on a disk with >= {MIN_FREE_GIB:g} GiB free"
        return Check("disk", "run folder", False, value, fix, required=True)
    return Check("disk", "run folder", True, value, required=True)


def _existing_ancestor(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def diagnose(run_dir: Path = Path("runs")) -> Report:
    """Every check, in the order `shiftnas doctor` prints them."""
    return Report(
        [
            *python_checks(),
            *torch_checks(),
            *runtime_checks(),
            *library_checks(),
            tracking_check(Path(run_dir)),
            *backend_checks(),
            *cpu_checks(),
            disk_check(Path(run_dir)),
        ]
    )
