"""The shift-robustness report: Markdown next to its PNGs, and one self-contained HTML file.

The HTML embeds every plot as a base64 `data:` URI, so it can be mailed or attached to an MLflow
run as a single file and still show its images.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from shiftnas.files import write_bytes_atomic, write_text_atomic
from shiftnas.robustness.chance import NEAR_CHANCE_MARGIN, near_chance
from shiftnas.robustness.plots import ablation_png, offset_curves_png, training_png


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _network_note(result: dict[str, Any]) -> str | None:
    """A warning when the evaluated network itself is within a few points of chance."""
    network = result["network"]
    if not near_chance(network["clean_acc"], network.get("num_classes")):
        return None
    return (
        f"Clean accuracy {_pct(network['clean_acc'])}% is within {_chance_note(network)}: the "
        "network has not learned the task, so its shift metrics say nothing about robustness."
    )


def _metric_rows(result: dict[str, Any]) -> list[list[str]]:
    network = result["network"]
    rows = [["clean accuracy (%)", _pct(network["clean_acc"])]]
    for fill, m in network["fills"].items():
        rows.append([f"shifted accuracy, {fill} fill, +-{network['max_shift']} px (%)",
                     _pct(m["shifted_acc"])])  # fmt: skip
        rows.append([f"consistency, {fill} fill (%)", _pct(m["consistency"])])
    return rows


def _ablation_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    cells, fill = result["ablation"], result["settings"]["fills"][0]
    header = ["network", "aug: clean", "aug: shifted", "no aug: clean", "no aug: shifted"]
    rows = []
    for net in ("searched", "without_filter"):
        row = [net.replace("_", " ")]
        for aug in ("aug", "noaug"):
            m = cells[f"{net}-{aug}"]["metrics"]
            row += [_pct(m["clean_acc"]), _pct(m["fills"][fill]["shifted_acc"])]
        rows.append(row)
    return header, rows


def _chance_note(metrics: dict[str, Any]) -> str:
    classes = metrics["num_classes"]
    chance = f"{100 / classes:.2f}% for {classes} classes"
    return f"{NEAR_CHANCE_MARGIN * 100:g} points of chance ({chance})"


def _filter_gain(result: dict[str, Any]) -> str:
    """One sentence a reader can take away: what the filter did to shifted accuracy, or, when a
    cell's clean accuracy is within a few points of chance, that the ablation is inconclusive:
    the difference between networks that learned nothing is noise."""
    cells, fill = result["ablation"], result["settings"]["fills"][0]
    near = [name for name, c in cells.items()
            if near_chance(c["metrics"]["clean_acc"], c["metrics"].get("num_classes"))]  # fmt: skip
    if near:
        accuracies = ", ".join(f"{name} {_pct(c['metrics']['clean_acc'])}%"
                               for name, c in cells.items())  # fmt: skip
        return (
            f"The ablation is inconclusive at this budget: clean accuracies are {accuracies}, "
            f"and {', '.join(near)} within {_chance_note(cells[near[0]]['metrics'])}; train "
            "longer (robustness.ablation_epochs, retrain.epochs) before reading the filter's "
            "effect."
        )
    parts = []
    for aug, label in (("noaug", "without"), ("aug", "with")):
        with_f = cells[f"searched-{aug}"]["metrics"]["fills"][fill]["shifted_acc"]
        without = cells[f"without_filter-{aug}"]["metrics"]["fills"][fill]["shifted_acc"]
        parts.append(f"{100 * (with_f - without):+.2f} points {label} augmentation")
    return f"The filter changes shifted accuracy ({fill} fill) by {' and '.join(parts)}."


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def make_plots(result: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, bytes]:
    """The report's PNGs by file name."""
    curves = {"network": {f: m["offset_curve"] for f, m in result["network"]["fills"].items()
                          if "offset_curve" in m}}  # fmt: skip
    plots: dict[str, bytes] = {}
    if result.get("ablation"):
        twin = result["ablation"].get("without_filter-noaug", {}).get("metrics", {})
        twin_curves = {f: m["offset_curve"] for f, m in twin.get("fills", {}).items()
                       if "offset_curve" in m}  # fmt: skip
        if twin_curves:
            curves["without filter (no aug)"] = twin_curves
        plots["ablation.png"] = ablation_png(result["ablation"], result["settings"]["fills"][0])
    if curves["network"]:
        plots["accuracy_vs_shift.png"] = offset_curves_png(curves)
    if history:
        plots["training.png"] = training_png(history)
    return plots


_TITLES = {
    "accuracy_vs_shift.png": "Accuracy against shift",
    "ablation.png": "Clean and shifted accuracy of the four ablation networks",
    "training.png": "Retraining curves",
}
_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def _curves_caption(result: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """What the accuracy-against-shift plot compares, including how differently the two
    networks were trained (the twin is the ablation's, trained from scratch)."""
    trained = f"{len(history)} epoch(s), see the retraining curves" if history else "retrained"
    caption = f"Solid lines: the retrained network ({trained})."
    twin = (result.get("ablation") or {}).get("without_filter-noaug")
    if twin:
        caption += (
            " Dashed: its without-filter twin from the Table III ablation, trained from "
            f"scratch without augmentation for {twin['epochs']} epoch(s). The two differ in "
            "training as well as in the filter, so the gap between the lines is not the "
            "filter's effect alone; Table III compares networks trained alike."
        )
    return caption


_CSS = """body{font-family:system-ui,sans-serif;max-width:860px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px}
th{background:#f3f3f3}td:not(:first-child){text-align:right}img{max-width:100%}
code{background:#f6f6f6;padding:1px 4px}"""


def write_report(
    result: dict[str, Any], history: list[dict[str, Any]], out_dir: Path
) -> dict[str, Path]:
    """Write `report.md`, `report.html` and the PNGs into `out_dir`; returns their paths."""
    out_dir = Path(out_dir)
    plots = make_plots(result, history)
    for name, png in plots.items():
        write_bytes_atomic(out_dir / name, png)
    arch, twin = result["arch"], result["twin"]
    title = f"Shift robustness of {result['arch_id']}"
    intro = (
        f"Architecture `{arch['space']}` genome `{'-'.join(map(str, arch['genome']))}`; its "
        f'"without filter" twin is `{"-".join(map(str, twin["genome"]))}`. Shifts are random '
        f"offsets up to +-{result['network']['max_shift']} px on {result['network']['images']} "
        "test images; consistency is how often two random shifts of one image get the same "
        "predicted label (Zhang 2019)."
    )
    warning = _network_note(result)
    sections_md = [f"# {title}", intro, "## Shift metrics", *([warning] if warning else []),
                   _md_table(["metric", "value"], _metric_rows(result))]  # fmt: skip
    intro_html = re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(intro))
    sections_html = [f"<h1>{html.escape(title)}</h1>", f"<p>{intro_html}</p>",
                     "<h2>Shift metrics</h2>",
                     *([f"<p>{html.escape(warning)}</p>"] if warning else []),
                     _html_table(["metric", "value"], _metric_rows(result))]  # fmt: skip
    if result.get("ablation"):
        header, rows = _ablation_rows(result)
        epochs = next(iter(result["ablation"].values()))["epochs"]
        note = f"All four trained from the same seed for {epochs} epoch(s); accuracies in %."
        note += " " + _filter_gain(result)
        sections_md += ["## Table III ablation", note, _md_table(header, rows)]
        sections_html += ["<h2>Table III ablation</h2>", f"<p>{html.escape(note)}</p>",
                          _html_table(header, rows)]  # fmt: skip
    for name, png in plots.items():
        heading = _TITLES[name]
        caption = _curves_caption(result, history) if name == "accuracy_vs_shift.png" else ""
        sections_md.append(f"## {heading}\n\n![{heading}]({name})")
        data = base64.b64encode(png).decode("ascii")
        image = f'<img alt="{heading}" src="data:image/png;base64,{data}">'
        sections_html.append(f"<h2>{heading}</h2>{image}")
        if caption:
            sections_md.append(caption)
            sections_html.append(f"<p>{html.escape(caption)}</p>")
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    write_text_atomic(md_path, "\n\n".join(sections_md) + "\n")
    page = (
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">{_VIEWPORT}"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections_html) + "</body></html>\n"
    )  # fmt: skip
    write_text_atomic(html_path, page)
    return {"md": md_path, "html": html_path, **{n: out_dir / n for n in plots}}
