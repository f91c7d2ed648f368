"""The HTML report as a person sees it: opened in headless Chromium, every image must load.

Chromium comes from Debian's `chromium` package (`scripts/install-chromium.sh`); the test skips
with the reason when it is absent. A screenshot is kept in `test-artifacts/report.png`.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from torch import nn

from shiftnas.data import make_shapes
from shiftnas.robustness import shift_metrics
from shiftnas.robustness.ablation import CELLS
from shiftnas.robustness.report import write_report
from shiftnas.robustness.settings import RobustnessConfig

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]  # fmt: skip
CHECK = """<script>
window.addEventListener("load", () => {
  const pre = document.createElement("pre");
  pre.id = "img-check";
  pre.textContent = JSON.stringify([...document.images].map(
    (i) => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})));
  document.body.appendChild(pre);
});
</script></body>"""


def _report(out_dir: Path) -> Path:
    """A report of real (untrained, tiny) networks' metrics on synthetic shapes."""
    data = make_shapes(60, seed=0, size=16)
    config = RobustnessConfig(max_shift=2, shift_pairs=1)
    stats = ((0.5,) * 3, (0.25,) * 3)

    def metrics(seed: int) -> dict:
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Conv2d(3, 10, 3, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(1)
        )
        return shift_metrics(model, data, *stats, config, seed=0)

    ablation = {c.name: {"arch": {"space": "mbv3", "genome": [1]}, "arch_id": c.name,
                         "filter": c.filter, "augment": c.augment, "epochs": 1,
                         "folder": c.name, "metrics": metrics(i)}
                for i, c in enumerate(CELLS)}  # fmt: skip
    result = {"arch": {"space": "mbv3", "genome": [1]}, "arch_id": "demo",
              "twin": {"space": "mbv3", "genome": [0]}, "settings": config.model_dump(mode="json"),
              "network": ablation["searched-aug"]["metrics"], "ablation": ablation}  # fmt: skip
    history = [{"epoch": e, "train_acc": 0.1 * e, "val_acc": 0.08 * e, "test_acc": 0.07 * e}
               for e in range(4)]  # fmt: skip
    return write_report(result, history, out_dir)["html"]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: scripts/install-chromium.sh"
)
def test_report_images_load_in_headless_chromium(tmp_path):
    page = _report(tmp_path / "report")
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", CHECK, 1))
    done = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path / "p1")
    found = re.search(r'<pre id="img-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium did not render the page: {done.stderr[-500:]}"
    images = json.loads(found.group(1).replace("&quot;", '"'))
    assert len(images) == 3
    for image in images:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
    artefact = REPO / "test-artifacts" / "report.png"
    artefact.parent.mkdir(exist_ok=True)
    artefact.unlink(missing_ok=True)
    shot = _chromium(
        ["--window-size=1000,2600", f"--screenshot={artefact}", page.as_uri()], tmp_path / "p2"
    )
    assert artefact.exists() and artefact.read_bytes().startswith(b"\x89PNG"), shot.stderr[-500:]
