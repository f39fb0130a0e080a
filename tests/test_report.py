"""``hardgen report``: the page holds the figures and the trajectories, escapes model text, and loads
in a real browser (headless Chromium) without errors."""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hardgen.cli import app
from hardgen.report import write_report
from hardgen.schema import HardQuery, Trajectory
from tests.fixtures_trajectories import all_trajectories, write_run

FIGURE_IDS = ["fig-calls", "fig-domains", "fig-turns", "fig-correct-at-k", "fig-funnel"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOSTILE = (
    '<script>document.body.dataset.pwned="1"</script><img src=x onerror="document.body.dataset.pwned=1">'
)
IMG = re.compile(
    r'<figure id="([a-z-]+)">\s*<img class="figure-img" alt="[^"]*" src="data:image/png;base64,([^"]+)"'
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("report")
    trajectories = all_trajectories()
    fare = trajectories[0]
    hostile = fare.turns[0].model_copy(
        update={"query": HardQuery(text=f"Quote Rivermist to Stonebrook {HOSTILE}")}
    )
    trajectories[0] = fare.model_copy(update={"turns": [hostile]})
    run = write_run(base / "run", trajectories)
    return write_report(run, base / "report.html")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_five_figures_as_png(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    found = dict(IMG.findall(html))
    assert list(found) == FIGURE_IDS
    for fid, b64 in found.items():
        width, height = _png_size(base64.b64decode(b64))
        assert width > 200 and height > 100, fid


def test_key_figures_and_trajectories(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "3 kept trajectories of 5 items" in html
    assert "k=1: 70.0%, k=2: 90.0%, k=3: 90.0%" in html
    assert html.count('<details class="trajectory"') == 5
    # What a user browses: query, CoT, calls, observations, attempts with feedback, summary, discards.
    assert "The trip departs from Rivermist&#39;s airport RMS and arrives at SBK." in html
    assert "[get_zipcode(city=&#34;Rivermist&#34;), get_zipcode(city=&#34;Stonebrook&#34;)]" in html
    assert "&#34;zipcode&#34;: &#34;83214&#34;" in html
    assert "Check which airport the trip departs from." in html
    assert "An economy seat from Rivermist (RMS) to Stonebrook (SBK) costs 147.67 USD." in html
    assert "reasoner: reasoner:k_max_exhausted" in html
    assert "guard:query_leak (1)" in html


def test_model_text_is_escaped(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert (
        "&lt;script&gt;document.body.dataset.pwned=&#34;1&#34;&lt;/script&gt;&lt;img src=x onerror=" in html
    )
    assert html.count("<script>") == 1, "only the page's own script"
    assert "<img src=x" not in html


def test_trajectory_limit_and_cli(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    res = CliRunner().invoke(
        app, ["report", str(run), "-o", str(tmp_path / "r.html"), "--max-trajectories", "2"]
    )
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count('<details class="trajectory"') == 2
    assert "fixture-run/0" in html and "fixture-run/1" in html and "fixture-run/2" not in html


def _chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def test_page_loads_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    binary = _chromium()
    if binary is None:
        pytest.skip("no Chromium binary on PATH (Debian: apt-get install -y chromium)")
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        report.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", done.stdout)
    assert body is not None, done.stdout[:500]
    attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    # The page's script ran, found no error, and every figure decoded to a real image in the browser.
    assert attributes.get("ready") == "1"
    assert attributes.get("js-errors") == "0"
    assert attributes.get("figures-loaded") == attributes.get("figures-expected") == "5"
    assert "pwned" not in attributes, "text from a model ran as code"
    for text in (
        "Tool calls per trajectory",
        "API domains",
        "Single- vs multi-turn",
        "Correct at k",
        "Funnel",
    ):
        assert text in done.stdout
    assert "5 of 5" in done.stdout, "the trajectory filter ran and counted the trajectories"


def _many(n: int) -> list[Trajectory]:
    """``n`` items cycling through the fixtures: kept ones and both kinds of discarded ones."""
    base = all_trajectories()
    out = []
    for i in range(n):
        t = base[i % len(base)]
        out.append(t.model_copy(update={"item": i, "id": f"{t.id.rsplit('/', 1)[0]}/{i}"}))
    return out


def test_every_trajectory_is_browsable_in_pages_discarded_ones_included(tmp_path: Path) -> None:
    trajectories = _many(120)
    discarded = [t for t in trajectories if t.status == "discarded"]
    page = write_report(write_run(tmp_path / "run", trajectories), tmp_path / "r.html")
    html = page.read_text(encoding="utf-8")
    assert html.count('<details class="trajectory"') == 120
    assert html.count('data-status="discarded"') == len(discarded) == 48
    assert "120 of 120 items (72 kept, 48 discarded" in html
    # A discarded item keeps its reason and the attempts of the step that used up K_max.
    assert html.count("the step that exhausted its attempts") == sum(1 for t in discarded if t.failed_step)
    # Bodies wait in inert templates until opened, so a large run stays a light page.
    assert html.count("<template>") == 120
    binary = _chromium()
    if binary is None:
        pytest.skip("no Chromium binary on PATH (Debian: apt-get install -y chromium)")
    dom = _dump_dom(binary, page, tmp_path)
    assert "120 of 120" in dom and "page 1 of 3" in dom
    shown = re.findall(r'<details class="trajectory" data-status="\w+"(?: style="([^"]*)")?', dom)
    assert len(shown) == 120
    assert sum(1 for style in shown if "none" not in style) == 50, "one page of 50 at a time"


def _dump_dom(binary: str, page: Path, tmp_path: Path) -> str:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
