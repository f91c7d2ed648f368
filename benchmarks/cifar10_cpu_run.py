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
    return {
        "stages_done": done,
        "wall_seconds": round(sum(a["wall_seconds"] for a in attempts), 1),
        "cpu_seconds": round(sum(a["cpu_seconds"] for a in attempts), 1),
        "peak_rss_mb": max((a["peak_rss_mb"] for a in attempts), default=None),
        "exported_test_accuracy": [e["test_acc"] for e in exported],
        "exported": exported,
        "retrained": retrain,
        "stage_seconds": {
            name: round(s["finished"] - s["started"], 1)
            for name, s in stages.items()
            if "finished" in s and "started" in s
        },
        "attempts": attempts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--run-dir", type=Path, default=ROOT / "runs" / "cifar10-cpu")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    run_dir = args.run_dir.resolve()
    log = run_dir / "benchmark_attempts.json"
    attempts = json.loads(log.read_text()) if log.exists() else []
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
    if attempts[-1]["returncode"] != 0:
        raise SystemExit(attempts[-1]["returncode"])


if __name__ == "__main__":
    main()
