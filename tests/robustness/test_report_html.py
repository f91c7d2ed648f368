"""The robustness report's HTML as a reader meets it: its title, headings, viewport, the caption
of the accuracy-against-shift plot, and a legend that hides no data point."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
from robustness_helpers import demo_report

from shiftnas.robustness.plots import offset_curves_figure


class Page(HTMLParser):
    """The title, the headings, the meta tags and the paragraphs of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.title, self.headings, self.meta, self.paragraphs = "", [], [], []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            self.meta.append(dict(attrs))
        if tag in ("title", "h1", "h2", "p"):
            self._in = tag
            if tag != "title":
                (self.headings if tag != "p" else self.paragraphs).append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in in ("h1", "h2"):
            self.headings[-1] += data
        elif self._in == "p":
            self.paragraphs[-1] += data


def test_report_title_headings_viewport_and_caption(tmp_path):
    page = Page(demo_report(tmp_path).read_text())
    assert page.title == "Shift robustness of demo"  # was the last plot's heading
    assert page.headings[0] == page.title
    assert sum("Table III" in h for h in page.headings) == 1
    assert len(page.headings) == len(set(page.headings))
    viewport = [m for m in page.meta if m.get("name") == "viewport"]
    assert viewport and "width=device-width" in viewport[0]["content"]
    # the plot's dashed twin was trained differently: the caption says how (the fixture's
    # retraining history has 4 epochs, the ablation's twin 1 epoch from scratch)
    caption = next(p for p in page.paragraphs if p.startswith("Solid lines"))
    assert "(4 epoch(s)" in caption
    assert "trained from scratch without augmentation for 1 epoch(s)" in caption
    assert "not the filter's effect alone" in caption


def test_accuracy_vs_shift_legend_hides_no_point():
    # curves that fill the whole plot area, so no place inside the axes is free for a legend
    offsets = list(range(-8, 9))
    zigzag = [0.1 + 0.8 * ((i * 7) % 17) / 16 for i in range(len(offsets))]
    curves = {
        "network": {
            "zero": {"offset": offsets, "accuracy": zigzag},
            "circular": {"offset": offsets, "accuracy": zigzag[::-1]},
        },
        "without filter (no aug)": {
            "zero": {"offset": offsets, "accuracy": [1 - a for a in zigzag]},
            "circular": {"offset": offsets, "accuracy": [0.5] * len(offsets)},
        },
    }
    fig = offset_curves_figure(curves)
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    points = np.concatenate([ax.transData.transform(line.get_xydata()) for line in ax.lines])
    assert len(points) == 4 * len(offsets)
    inside = (
        (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
        & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
    )  # fmt: skip
    assert not inside.any()
    assert len(ax.get_legend().get_texts()) == 4
