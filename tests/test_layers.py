"""The package's layers: every import inside `src/shiftnas` points down (issue #12).

Read from the source with `ast` (every `import`, including the lazy ones inside functions), so a
new upward import fails here before it tangles the packages.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "shiftnas"

# Bottom to top; a module may import its own package and any strictly lower layer.
LAYERS: list[set[str]] = [
    {"errors"},
    {"files", "device", "section", "progress", "arch", "names"},
    {"runtime"},
    {"data", "profiling"},
    {"search"},
    {"training"},
    {"robustness", "export"},
    {"tracking"},
    {"pipeline", "doctor"},  # doctor: checks every installed piece, as the pipeline uses them
    {"cli"},
    {"__main__"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def top_package(module: str) -> str:
    """`shiftnas.search.nsga.run` -> `search`; `shiftnas` itself -> ``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_of(path: Path, src: Path = SRC) -> list[str]:
    """Absolute names of every shiftnas module `path` imports, relative imports resolved."""
    module = ".".join(path.relative_to(src.parent).with_suffix("").parts)
    package = (
        module.rsplit(".", 1)[0] if path.name != "__init__.py" else module[: -len(".__init__")]
    )
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.append(node.module)
    return [name for name in found if name == "shiftnas" or name.startswith("shiftnas.")]


def upward_imports(src: Path = SRC) -> list[str]:
    bad = []
    for path in sorted(src.rglob("*.py")):
        here = top_package(".".join(path.relative_to(src.parent).with_suffix("").parts))
        if here in ("", "__init__"):
            continue  # the package's own __init__ re-exports nothing but its version
        for target in imports_of(path, src):
            there = top_package(target)
            if there == "":
                continue  # `shiftnas` itself: its version and the error class, below everything
            if there != here and RANK.get(there, len(LAYERS)) >= RANK[here]:
                bad.append(f"{path.relative_to(src)} imports {target}")
    return bad


def test_every_top_level_module_has_a_layer() -> None:
    names = {p.stem for p in SRC.glob("*.py")} | {p.name for p in SRC.iterdir() if p.is_dir()}
    unplaced = names - set(RANK) - {"__init__", "__pycache__", "configs"}
    assert not unplaced, f"place these in LAYERS: {sorted(unplaced)}"


def test_imports_point_down_only() -> None:
    assert upward_imports() == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a lazy import of the pipeline inside a training function is caught."""
    fake = tmp_path / "shiftnas"
    (fake / "training").mkdir(parents=True)
    (fake / "training" / "x.py").write_text(
        "def f():\n    from shiftnas.pipeline.rundir import RunDir\n    from ..data import y\n"
    )
    assert upward_imports(fake) == ["training/x.py imports shiftnas.pipeline.rundir"]


def test_loading_a_config_does_not_import_torch() -> None:
    """`shiftnas.pipeline.config` assembles the packages' settings; none of them needs torch,
    so checking a config is fast and works where torch is broken."""
    code = (
        "import sys; from shiftnas.pipeline.config import load_config; load_config(None); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
