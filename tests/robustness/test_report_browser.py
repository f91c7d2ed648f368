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
from robustness_helpers import demo_report

REPO = Path(__file__).resolve().parents[2]
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


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: scripts/install-chromium.sh"
)
def test_report_images_load_in_headless_chromium(tmp_path):
    page = demo_report(tmp_path / "report")
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
