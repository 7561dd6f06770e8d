"""The command line end to end: `python cli.py ...` in a separate process, outputs read back.

Each model run costs a few seconds, so the runs are made once per module (in
parallel) and shared by the tests that read them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.outputs import MANIFEST

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SHIPPED = {"march": SCENARIOS / "ceasefire_2016_03.yaml", "september": SCENARIOS / "stalemate_2016_09.yaml"}
DEFAULT_SCENARIO = SHIPPED["march"]
ACTORS = ("us", "russia", "iran", "turkey", "opposition")
OUTPUTS = ("report.html", "summary.json", "timeseries.csv")


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `python cli.py ARGS` from the project folder, as the README does."""
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "cli.py", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Both shipped scenarios by path, and the default scenario by omitting it: name -> (folder, process)."""
    base = tmp_path_factory.mktemp("cli_runs")
    commands = {
        "march": ["run", str(SHIPPED["march"].relative_to(ROOT)), "--out", str(base / "march")],
        "september": ["run", str(SHIPPED["september"]), "--out", str(base / "september")],
        "default": ["run", "--out", str(base / "default")],
    }
    started = {name: start_cli(*args) for name, args in commands.items()}
    finished = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        finished[name] = (base / name, subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return finished


def scenario_file(name: str) -> Path:
    return DEFAULT_SCENARIO if name == "default" else SHIPPED[name]


@pytest.mark.parametrize("name", ["march", "september", "default"])
def test_run_exits_zero_and_writes_the_three_files(runs: dict, name: str) -> None:
    folder, process = runs[name]
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    for output in OUTPUTS:
        assert (folder / output).is_file(), output
        assert (folder / output).stat().st_size > 0, output
    # Atomic writing leaves no temporary files behind: only the outputs and the folder's manifest.
    assert {p.name for p in folder.iterdir()} <= {*OUTPUTS, MANIFEST}
    assert f"report: {folder / 'report.html'}" in " ".join(process.stdout.split())


@pytest.mark.parametrize("name", ["march", "september", "default"])
def test_summary_json_has_the_contract(runs: dict, name: str) -> None:
    folder, _ = runs[name]
    path = scenario_file(name)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))

    assert summary["scenario"]["name"] == spec["name"]
    assert summary["scenario"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert type(summary["seed"]) is int and summary["seed"] == spec["seed"]
    assert type(summary["steps"]) is int and summary["steps"] == spec["time"]["steps"]
    steps = summary["steps"]
    start = dt.date.fromisoformat(str(spec["time"]["start"]))

    deal = summary["deal"]
    assert type(deal["reached"]) is bool
    if deal["reached"]:
        assert type(deal["step"]) is int and 0 <= deal["step"] < steps
        assert dt.date.fromisoformat(deal["date"]) == start + dt.timedelta(weeks=deal["step"])
        assert set(deal["position"]) == set(spec["issues"])
        assert all(type(v) is float and 0.0 <= v <= 1.0 for v in deal["position"].values())
    else:
        assert deal["step"] is None and deal["date"] is None and deal["position"] is None

    assert set(summary["actors"]) == set(ACTORS)
    for actor_id, actor in summary["actors"].items():
        assert type(actor["batna"]) is float, actor_id
        if deal["reached"]:
            assert type(actor["utility_of_deal"]) is float and 0.0 <= actor["utility_of_deal"] <= 1.0
            assert type(actor["distance_from_ideal"]) is float and 0.0 <= actor["distance_from_ideal"] <= 1.0
        else:
            assert actor["utility_of_deal"] is None and actor["distance_from_ideal"] is None

    ceasefire = summary["ceasefire"]
    assert type(ceasefire["held_steps"]) is int and 0 <= ceasefire["held_steps"] <= steps
    assert ceasefire["collapsed_step"] is None or (
        type(ceasefire["collapsed_step"]) is int and 0 <= ceasefire["collapsed_step"] < steps
    )

    leverage = summary["leverage"]
    assert set(leverage) == set(ACTORS)
    for row in leverage.values():
        assert set(row) == set(ACTORS)
        assert all(type(value) is float and value >= 0.0 for value in row.values())
    assert type(summary["control"]) is float and 0.0 < summary["control"] < 1.0


@pytest.mark.parametrize("name", ["march", "september"])
def test_timeseries_has_a_row_per_step_and_actor(runs: dict, name: str) -> None:
    folder, _ = runs[name]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "timeseries.csv")
    steps = summary["steps"]
    assert len(table) == steps * len(ACTORS)
    assert sorted(table["step"].unique().tolist()) == list(range(steps))
    for _, rows in table.groupby("step"):
        assert sorted(rows["actor"]) == sorted(ACTORS)
    issues = list(yaml.safe_load(scenario_file(name).read_text(encoding="utf-8"))["issues"])
    expected = {
        "step",
        "date",
        "actor",
        "batna",
        "utility_of_offer",
        "control",
        "deal",
        "ceasefire",
        "zone_exists",
        *(f"leverage_on_{a}" for a in ACTORS),
        *(f"proposal_{k}" for k in issues),
    }
    assert expected <= set(table.columns), expected - set(table.columns)
    start = dt.date.fromisoformat(summary["start"])
    first = table.drop_duplicates("step").set_index("step")["date"]
    assert all(dt.date.fromisoformat(first[s]) == start + dt.timedelta(weeks=int(s)) for s in first.index)

    # The summary is the end of the time series.
    last = table[table["step"] == steps - 1].set_index("actor")
    for actor_id in ACTORS:
        assert last.loc[actor_id, "batna"] == pytest.approx(summary["actors"][actor_id]["batna"], rel=1e-8, abs=1e-9)
    assert last["control"].iloc[0] == pytest.approx(summary["control"], rel=1e-8)
    deal_rows = table[table["deal"].astype(str) == "True"]
    if summary["deal"]["reached"]:
        # deal.step is the signing of the last settlement (the one whose terms are deal.position); the first
        # is agreements.settlement.step. A settlement in force at the end is the proposal of the last step.
        signed = summary["deal"]["step"]
        in_force = table.drop_duplicates("step").set_index("step")["deal"].astype(str) == "True"
        assert in_force[signed] and (signed == 0 or not in_force[signed - 1])
        assert deal_rows["step"].min() == summary["agreements"]["settlement"]["step"]
        if summary["agreements"]["settlement"]["held"]:
            at_deal = table[table["step"] == steps - 1].iloc[0]
            for issue, value in summary["deal"]["position"].items():
                assert at_deal[f"proposal_{issue}"] == pytest.approx(value, rel=1e-8, abs=1e-9)
    else:
        assert deal_rows.empty


@pytest.mark.parametrize("name", ["march", "september"])
def test_report_is_self_contained(runs: dict, name: str) -> None:
    from plotly.offline import get_plotlyjs

    folder, _ = runs[name]
    page = (folder / "report.html").read_text(encoding="utf-8")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    bundle = get_plotlyjs()
    assert page.count(bundle) == 1  # plotly.js inline, once
    rest = page.replace(bundle, "")
    assert not re.search(r"<script[^>]*\bsrc\s*=", rest, re.IGNORECASE)
    assert not re.search(r"\bsrc\s*=\s*[\"']?(https?:)?//", rest, re.IGNORECASE)  # no remote images or frames
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?(https?:)?//", rest, re.IGNORECASE)
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//", rest, re.IGNORECASE)
    assert f"<title>{html.escape(summary['scenario']['name'], quote=True)}</title>" in page
    assert html.escape(summary["outcome"], quote=True) in page

    # Every figure sits in a section with a title and a one-line caption; the issue asks for at least four.
    sections = re.findall(r"<section[^>]*>(.*?)</section>", page, re.DOTALL)
    figures = [s for s in sections if 'class="plot"' in s or "js-plotly-plot" in s or "plotly-graph-div" in s]
    assert len(figures) >= 4
    for section in figures:
        title = re.search(r"<h2[^>]*>(.*?)</h2>", section, re.DOTALL)
        caption = re.search(r'<p class="caption"[^>]*>(.*?)</p>', section, re.DOTALL)
        assert title and title.group(1).strip(), section[:200]
        assert caption and caption.group(1).strip(), section[:200]
        assert html.unescape(title.group(1)).strip() in html.unescape(page)


def test_omitting_the_scenario_runs_the_default(runs: dict) -> None:
    default_folder, _ = runs["default"]
    march_folder, _ = runs["march"]
    summary = json.loads((default_folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["file"] == DEFAULT_SCENARIO.name
    assert summary["scenario"]["sha256"] == hashlib.sha256(DEFAULT_SCENARIO.read_bytes()).hexdigest()
    # The same scenario and seed in another process: the same bytes (see also test_determinism.py).
    for output in ("summary.json", "timeseries.csv"):
        assert (default_folder / output).read_bytes() == (march_folder / output).read_bytes(), output


def test_validate_accepts_every_shipped_scenario() -> None:
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert set(SHIPPED.values()) <= set(files)
    result = cli("validate", *(str(f.relative_to(ROOT)) for f in files))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert " ".join(result.stdout.split()).count("ok:") == len(files)


def test_list_shows_the_shipped_scenarios() -> None:
    result = cli("list")
    assert result.returncode == 0, result.stderr
    for path in SCENARIOS.glob("*.yaml"):  # every name whole (in an 80-column console), so it can be typed back
        assert path.name in result.stdout.split(), path.name
    for path in SHIPPED.values():
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["name"].split(",")[0] in " ".join(result.stdout.split())


def test_list_of_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    result = cli("list", "--folder", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "no such folder" in result.stderr and "Traceback" not in result.stderr


def test_schema_is_json_schema_of_the_scenario_format() -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)

    def properties(node: object) -> list[dict]:
        found = []
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                found.append(node["properties"])
            for value in node.values():
                found += properties(value)
        elif isinstance(node, list):
            for value in node:
                found += properties(value)
        return found

    assert "$schema" in document
    tops = [p for p in properties(document) if {"name", "time", "issues", "actors", "events"} <= set(p)]
    assert tops, "no object with the scenario's top-level fields"
    assert any("extends" in p for p in tops)


def _commands() -> list[str]:
    import typer

    sys.path.insert(0, str(ROOT))
    from cli import app

    return sorted(typer.main.get_command(app).commands)


def test_help_of_the_application() -> None:
    result = cli("--help")
    assert result.returncode == 0, result.stderr
    for command in ("run", "validate", "list", "schema"):
        assert command in result.stdout
    assert set(("run", "validate", "list", "schema")) <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_help_of_every_command(command: str) -> None:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert len(result.output.strip().splitlines()) > 3


def _console_script() -> Path | None:
    candidates = [Path(sys.executable).parent / "negotiation-sim", ROOT / ".venv" / "bin" / "negotiation-sim"]
    found = shutil.which("negotiation-sim", path=os.pathsep.join(str(c.parent) for c in candidates))
    return Path(found) if found else None


def test_console_script_help() -> None:
    script = _console_script()
    if script is None:
        pytest.skip("the negotiation-sim console script is not installed")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout and "validate" in result.stdout


def test_version_prints_the_package_version() -> None:
    """Issue 14: `--version` prints the version of the package and exits 0, without a command."""
    from sim import __version__

    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"negotiation-sim {__version__}"
