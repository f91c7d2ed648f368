"""The built documentation as a reader sees it: the home page and the configuration reference,
served over HTTP and opened in headless Chromium, render their content with no console error.

Chromium comes from Debian's `chromium` package (`scripts/install-chromium.sh`); the test skips
with the reason when it is absent. Screenshots are kept in `test-artifacts/docs-*.png`.
"""

import functools
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from docs_helpers import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]  # fmt: skip
# Chromium logs each console message of the page as `...:INFO:CONSOLE:7] "message", source: url`
# (older builds: `CONSOLE(7)]`); a page that logs nothing, errors included, logs no such line
CONSOLE = re.compile(r"CONSOLE[:(]\d+\)?\] \"(.*?)\", source: (\S*)")

PAGES = {
    "home": ("", ["Where to go", "quickstart-pareto.png"]),
    "configuration": ("reference/configuration/", ["search.population", "registry.alias"]),
}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def served(built_docs):
    assert built_docs.returncode == 0, built_docs.output[-2000:]
    handler = functools.partial(_QuietHandler, directory=str(built_docs.site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()


def _chromium(args, profile):
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: scripts/install-chromium.sh"
)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_docs_page_renders_without_console_errors(served, name, tmp_path):
    path, expected = PAGES[name]
    url = served + path
    done = _chromium(["--virtual-time-budget=10000", "--dump-dom", url], tmp_path / "p1")
    assert "md-content" in done.stdout, f"chromium did not render {url}: {done.stderr[-800:]}"
    for text in expected:
        assert text in done.stdout, f"{text!r} is not on {url}"
    messages = CONSOLE.findall(done.stderr)
    assert not messages, f"console messages on {url}: {messages}"
    artefact = REPO / "test-artifacts" / f"docs-{name}.png"
    artefact.parent.mkdir(exist_ok=True)
    artefact.unlink(missing_ok=True)
    shot = _chromium(["--window-size=1200,1600", f"--screenshot={artefact}", url], tmp_path / "p2")
    assert artefact.exists(), shot.stderr[-800:]
    assert artefact.read_bytes().startswith(b"\x89PNG") and artefact.stat().st_size > 20_000
