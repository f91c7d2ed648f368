"""#27 kind 5: a robustness report draws no conclusion from networks near chance accuracy."""

from __future__ import annotations

from shiftnas.robustness import CONDITIONS
from shiftnas.robustness.report import write_report


def _metrics(clean: float, shifted: float, classes: int = 10) -> dict:
    fills = {"zero": {"shifted_acc": shifted, "consistency": 0.5}}
    return {"clean_acc": clean, "max_shift": 2, "images": 100, "num_classes": classes,
            "shift_pairs": 1, "fills": fills}  # fmt: skip


def _report(tmp_path, cells: dict[str, tuple[float, float]], network=(0.6, 0.5)) -> str:
    ablation = {c.name: {"arch": {"space": "mbv3", "genome": [1]}, "arch_id": c.name,
                         "filter": c.filter, "augment": c.augment, "epochs": 2,
                         "folder": c.name, "metrics": _metrics(*cells[c.name])}
                for c in CONDITIONS}  # fmt: skip
    result = {"arch": {"space": "mbv3", "genome": [1]}, "arch_id": "x",
              "twin": {"space": "mbv3", "genome": [0]},
              "settings": {"fills": ["zero"], "max_shift": 2},
              "network": _metrics(*network), "ablation": ablation}  # fmt: skip
    files = write_report(result, [], tmp_path)
    html = files["html"].read_text()
    md = files["md"].read_text()
    assert ("inconclusive" in md) == ("inconclusive" in html)
    return md


# the quickstart's four ablation networks: 10-21% clean accuracy on 10 classes
NEAR_CHANCE = {"searched-aug": (0.21, 0.1924), "without_filter-aug": (0.12, 0.12),
               "searched-noaug": (0.10, 0.1084), "without_filter-noaug": (0.14, 0.10)}  # fmt: skip


def test_near_chance_ablation_is_inconclusive_with_the_accuracies(tmp_path) -> None:
    md = _report(tmp_path, NEAR_CHANCE)
    assert "The filter changes shifted accuracy" not in md
    assert "The ablation is inconclusive at this budget" in md
    for shown in ("searched-aug 21.00%", "without_filter-aug 12.00%", "searched-noaug 10.00%",
                  "without_filter-noaug 14.00%"):  # fmt: skip
        assert shown in md, shown
    # 0.12, 0.10 and 0.14 are below 0.10 + 0.05; 0.21 is not
    assert "without_filter-aug, searched-noaug, without_filter-noaug within 5 points" in md
    assert "(10.00% for 10 classes)" in md


def test_learned_ablation_states_the_filter_gain(tmp_path) -> None:
    learned = {"searched-aug": (0.80, 0.75), "without_filter-aug": (0.78, 0.70),
               "searched-noaug": (0.70, 0.60), "without_filter-noaug": (0.69, 0.55)}  # fmt: skip
    md = _report(tmp_path, learned)
    assert "inconclusive" not in md
    # by hand: 0.60 - 0.55 = +5.00 points without augmentation, 0.75 - 0.70 = +5.00 with
    assert "by +5.00 points without augmentation and +5.00 points with augmentation" in md


def test_exactly_chance_plus_margin_is_not_near_chance(tmp_path) -> None:
    at_margin = {name: (0.15, 0.15) for name in NEAR_CHANCE}  # 1/10 + 0.05: not below it
    assert "inconclusive" not in _report(tmp_path, at_margin)


def test_a_near_chance_network_gets_a_warning_above_its_shift_metrics(tmp_path) -> None:
    learned = {name: (0.8, 0.7) for name in NEAR_CHANCE}
    md = _report(tmp_path, learned, network=(0.52, 0.5))
    assert "has not learned the task" not in md  # 10 classes: 0.52 is far above 0.15
    md = _report(tmp_path, learned, network=(0.11, 0.1))
    assert "Clean accuracy 11.00% is within 5 points of chance" in md
    assert "shift metrics say nothing about robustness" in md
