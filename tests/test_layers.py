"""The package's layers: data flows one way, nothing imports in a cycle, and `import sim` is the API.

Imports are read from the source (every `import` statement, including those inside functions, which
is where a cycle hides), so the test needs nothing installed beyond the standard library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

# What each layer may import from the package. The mechanisms are pure mathematics and import
# nothing of ours; the scenario layer uses them to turn a file into arrays (salience, utility).
# The reports read the mechanisms only for names (the instruments of leverage). `sim` itself (for
# __version__) is open to all.
ALLOWED = {
    "sim.mechanisms": {"sim.mechanisms"},
    "sim.scenario": {"sim.scenario", "sim.mechanisms"},
    "sim.model": {"sim.model", "sim.mechanisms", "sim.scenario"},
    "sim.runs": {"sim.runs", "sim.model", "sim.mechanisms", "sim.scenario"},
    "sim.reports": {
        "sim.reports",
        "sim.runs.statistics",
        "sim.runs.comparison",
        "sim.model",
        "sim.mechanisms",
        "sim.scenario",
        "sim.outputs",
    },
    # Checks against real negotiations (the DEU III benchmark, historical cases): they use the model and
    # its runs, and the reports and the API use them, never the other way round.
    "sim.validation": {"sim.validation", "sim.mechanisms", "sim.scenario", "sim.model", "sim.runs"},
    "sim.api": {"sim.api", "sim.outputs", "sim.scenario", "sim.model", "sim.runs", "sim.reports", "sim.validation"},
    "sim.outputs": set(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(path: Path) -> set[str]:
    """Every module of `sim` that `path` imports anywhere in its body (`from sim.x import y` counts
    `sim.x.y` when that is a module, else `sim.x`)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for block in ast.walk(tree):  # imports for annotations only are not run: drop `if TYPE_CHECKING:` blocks
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("sim"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim") and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return {name for name in found if name != "sim"}


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: package_imports(path) for name, path in MODULES.items()}


def layer_of(name: str) -> str:
    return next(
        layer for layer in sorted(ALLOWED, key=len, reverse=True) if name == layer or name.startswith(layer + ".")
    )


def test_the_graph_is_read_from_real_imports() -> None:
    """A guard on the reader itself: known edges are found, including one inside a function."""
    assert "sim.mechanisms.bargaining" in GRAPH["sim.mechanisms.leverage"]
    assert "sim.model.engine" in GRAPH["sim.runs.batch"]
    assert "sim.reports.run" in GRAPH["sim.api"]  # imported inside write_run_outputs
    assert "sim.api" in GRAPH["sim"]


def test_no_module_imports_itself_through_others() -> None:
    """No import cycle anywhere, counting imports made inside functions."""
    cycles = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH.get(name, ())):
            if target not in GRAPH:
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [name, target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state and name != "sim":  # sim/__init__ re-exports the API lazily, on attribute access
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("name", sorted(name for name in MODULES if name != "sim"))
def test_each_module_imports_only_its_own_layer_or_lower(name: str) -> None:
    layer = layer_of(name)
    allowed = ALLOWED[layer]
    wrong = [
        target
        for target in sorted(GRAPH[name])
        if not any(target == ok or target.startswith(ok + ".") for ok in allowed)
    ]
    assert not wrong, f"{name} (layer {layer}) imports {wrong}; it may import only {sorted(allowed)}"


def test_import_sim_gives_the_public_api() -> None:
    for name in (
        "load_scenario",
        "run_scenario",
        "write_run_outputs",
        "plan_monte_carlo",
        "write_monte_carlo",
        "plan_sweep",
        "write_sweep",
        "plan_sensitivity",
        "write_sensitivity",
        "compare_scenarios",
        "write_comparison",
    ):
        assert callable(getattr(sim, name)), name
    assert set(sim.__all__) <= set(dir(sim))
    with pytest.raises(AttributeError):
        _ = sim.no_such_thing


def test_a_notebook_user_runs_a_scenario_in_one_line(tmp_path: Path) -> None:
    result = sim.run_scenario(sim.load_scenario(ROOT / "scenarios" / "deal_saudi_russia_oil_cap.yaml"))
    written = sim.write_run_outputs(result, tmp_path / "out")
    assert {"report.html", "summary.json", "timeseries.csv"} <= {path.name for path in written}
    assert result.summary["deal"]["reached"] in (True, False)


def test_importing_the_scenario_layer_does_not_load_the_model_or_plotly() -> None:
    """The CLI imports the loader for every command; the heavy layers load only when needed."""
    code = (
        "import sys, sim.scenario.loader; "
        "print(sorted(m for m in ('mesa', 'plotly', 'pandas', 'sim.model.model') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_layout_names_every_part_of_the_package() -> None:
    """Each subpackage and top-level module of sim/ appears in the README's layout section, and the
    section names nothing that does not exist."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("```", layout.index("```") + 3)]
    for entry in sorted(PACKAGE.iterdir()):
        if entry.name.startswith("__pycache__") or entry.name == "__init__.py":
            continue
        shown = f"{entry.name}/" if entry.is_dir() else entry.name
        assert shown in layout, f"README layout does not mention sim/{shown}"
    for entry in (ROOT / "sim").iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            for module in entry.glob("*.py"):
                if module.stem != "__init__":
                    assert module.stem in layout, f"README layout does not mention sim/{entry.name}/{module.name}"
