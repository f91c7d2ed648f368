"""Run the CPU-scale CIFAR-10 preset end to end and record what it cost and what it found.

    .venv/bin/python benchmarks/cifar10_cpu_run.py [--config configs/cifar10-cpu.yaml]
        [--run-dir runs/cifar10-cpu] [--out benchmarks/results/cifar10_cpu_run.json]

It runs `shiftnas run CONFIG --run-dir D` as a child process (from the repository root, where the
preset's relative data paths point) and writes `stages_done` (the stages `state.json` marks done),
`wall_seconds`, `cpu_seconds` (user + sys of the run), `peak_rss_mb` (the child's maximum
resident set, `getrusage`), `exported_test_accuracy` (one fraction per exported network, from its
`card.json`, on the 10,000 test images) and the machine block of the other benchmarks.

Resumable like the pipeline: run it again after a kill and the run continues; every attempt's
wall and CPU seconds are kept in `D/benchmark_attempts.json` and summed, and the peak is the
maximum over attempts. `wall_seconds` measured on a shared machine is an upper bound for a quiet
one; `cpu_seconds` does not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import machine_info  # noqa: E402

CONFIG = ROOT / "configs" / "cifar10-cpu.yaml"
OUT = ROOT / "benchmarks" / "results" / "cifar10_cpu_run.json"


def run_attempt(config: Path, run_dir: Path) -> dict[str, Any]:
    """One `shiftnas run` in a child process: its exit code, wall and CPU seconds, peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "shiftnas", "run", str(config), "--run-dir", str(run_dir)]
    code = subprocess.call(command, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "returncode": code,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),  # kB on Linux
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def supernet_memory_probe(config: Path, seconds: int) -> dict[str, Any]:
    """Peak RSS of the supernet stage (data decoded, fair steps running), measured by running
    `shiftnas supernet train` into a scratch folder for `seconds` and stopping it: for a run whose
    supernet stage ran without this script, so its memory was not recorded."""
    import tempfile

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "shiftnas", "supernet", "train", "--config", str(config),
                   "--run-dir", scratch]  # fmt: skip
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT)
        try:
            child.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            child.terminate()  # (SIGINT is ignored by a background job's children)
            child.wait()
        seconds = round(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        raise SystemExit("the probe did not raise the children's peak RSS: run it on its own")
    return {"seconds": seconds, "peak_rss_mb": round(after / 1024, 1),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip


def summarize(run_dir: Path, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """The result JSON from a run folder and the attempts that produced it."""
    state = (
        json.loads((run_dir / "state.json").read_text())
        if (run_dir / "state.json").exists()
        else {}
    )
    stages = state.get("stages", {})
    done = [name for name, s in stages.items() if s.get("status") == "done"]
    exported = []
    for card_path in sorted((run_dir / "export").glob("*/card.json")):
        card = json.loads(card_path.read_text())
        exported.append({
            "arch_id": card.get("architecture", {}).get("id"),
            "test_acc": card.get("accuracy", {}).get("test_acc"),
            "params": card.get("params"), "macs": card.get("macs"),
        })  # fmt: skip
    retrain = stages.get("retrain", {}).get("summary", {})
    # A run begun without this script (or before its log existed) left only state.json's stage
    # times: stages finished before the first recorded attempt began are counted from them.
    first = min((_started(a) for a in attempts), default=float("inf"))
    earlier = {n: s["finished"] - s["started"] for n, s in stages.items()
               if s.get("finished", first) < first}  # fmt: skip
    unrecorded = round(sum(earlier.values()), 1)
    probe = (json.loads((run_dir / "supernet_probe.json").read_text())
             if (run_dir / "supernet_probe.json").exists() else None)  # fmt: skip
    peaks = [a["peak_rss_mb"] for a in attempts] + ([probe["peak_rss_mb"]] if probe else [])
    return {
        "stages_done": done,
        "wall_seconds": round(sum(a["wall_seconds"] for a in attempts) + unrecorded, 1),
        "cpu_seconds": round(sum(a["cpu_seconds"] for a in attempts), 1),
        "peak_rss_mb": max(peaks, default=None),
        "supernet_memory_probe": probe,
        "exported_test_accuracy": [e["test_acc"] for e in exported],
        "exported": exported,
        "retrained": retrain,
        # a stage a recorded attempt resumed counts from that attempt's start
        "stage_seconds": {
            name: round(s["finished"] - max(s["started"], -1 if name in earlier else first), 1)
            for name, s in stages.items()
            if "finished" in s and "started" in s
        },
        "unrecorded_attempt": {
            "stages": sorted(earlier, key=list(stages).index), "wall_seconds": unrecorded,
            "source": "stage start/finish times in state.json; its CPU time was not recorded "
                      "(cpu_seconds covers the recorded attempts only), its memory is measured "
                      "by `supernet_memory_probe` (--probe-supernet SECONDS)",
        } if earlier else None,
        "attempts": attempts,
    }  # fmt: skip


def _started(attempt: dict[str, Any]) -> float:
    """When an attempt began (epoch seconds), from its finish time and wall seconds."""
    import calendar

    finished = calendar.timegm(time.strptime(attempt["finished_at"], "%Y-%m-%dT%H:%M:%SZ"))
    return finished - attempt["wall_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--run-dir", type=Path, default=ROOT / "runs" / "cifar10-cpu")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report-only", action="store_true", help="rewrite the JSON, run nothing")
    parser.add_argument("--probe-supernet", type=int, default=0, metavar="SECONDS",
                        help="peak RSS of the supernet stage from a scratch run")  # fmt: skip
    args = parser.parse_args()
    run_dir = args.run_dir.resolve()
    log = run_dir / "benchmark_attempts.json"
    attempts = json.loads(log.read_text()) if log.exists() else []
    if args.probe_supernet:
        probe = supernet_memory_probe(args.config.resolve(), args.probe_supernet)
        (run_dir / "supernet_probe.json").write_text(json.dumps(probe, indent=2) + "\n")
    if not args.report_only:
        attempts.append(run_attempt(args.config.resolve(), run_dir))
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(json.dumps(attempts, indent=2) + "\n")
    result = {
        **summarize(run_dir, attempts),
        "config": str(args.config),
        "config_text": args.config.read_text(),
        "machine": machine_info(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"stages done: {', '.join(result['stages_done'])}; wall {result['wall_seconds']:.0f} s, "
          f"CPU {result['cpu_seconds']:.0f} s, peak RSS {result['peak_rss_mb']} MB; exported "
          f"test accuracy {result['exported_test_accuracy']}; wrote {args.out}")  # fmt: skip
    if attempts and attempts[-1]["returncode"] != 0:
        raise SystemExit(attempts[-1]["returncode"])


if __name__ == "__main__":
    main()
