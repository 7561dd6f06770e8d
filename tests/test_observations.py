"""Observed series (`observations:`): the shipped data, reading and refusing CSV files, `extends:`, the
uncertain observation parameters, and the observation model's mathematics (`sim.mechanisms.observation`).

Every refusal goes through `cli.py validate`: exit code 2, no traceback, the CSV file with its line and
column, and the scenario field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.mechanisms.observation import (
    aggregate,
    expected_counts,
    negative_binomial_logpmf,
    overlap_days,
    period_weeks,
    sample_counts,
)
from sim.scenario.loader import LoadedScenario, ScenarioError, load_scenario
from sim.scenario.observations import load_observations, step_dates
from sim.scenario.params import params_from_scenario, set_field
from sim.scenario.uncertainty import field_value_problem

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "syria_2016"
SHARED = ROOT.parent / "shared" / "data" / "syria_2016"
WEEKLY = "airwars_weekly_2015-09-28_2016-08-29.csv"
MONTHLY = "ucdp_ged_monthly_2013-01_2016-08.csv"

# A small valid scenario of 8 weeks from Monday 28 September 2015 that observes `series.csv` next to it.
SCENARIO = """\
name: Two patrons over one issue, observed
time: {start: 2015-09-28, step: week, steps: 8}
issues:
  assad_role: {low: Assad keeps power, high: Assad leaves}
actors:
  us: {name: United States, consent_required: true, position: {assad_role: 0.9}, salience: {assad_role: 1.0}}
  russia: {name: Russia, consent_required: true, position: {assad_role: 0.1}, salience: {assad_role: 1.0}}
observations:
  ru:
    file: series.csv
    resolution: week
    column: ru_incidents
    model: {dist: negative_binomial, scale: 45, dispersion: 5, baseline: 1}
    label: Incidents attributed to Russia
"""
FILE_LINE, FILE_COLUMN = 10, 5  # where SCENARIO writes `file:`

SERIES = """\
week_start,ru_incidents,note
2015-09-28,18,a
2015-10-05,16,b
2015-10-12,23,"c, quoted"
2015-10-19,18,d
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def flat(text: str) -> str:
    """Console output with line wrapping undone."""
    return " ".join(text.split())


def write_case(folder: Path, series: str | bytes | None = SERIES, scenario: str = SCENARIO) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.yaml"
    path.write_text(scenario, encoding="utf-8")
    if isinstance(series, str):
        (folder / "series.csv").write_text(series, encoding="utf-8", newline="")
    elif isinstance(series, bytes):
        (folder / "series.csv").write_bytes(series)
    return path


def replace_row(line: int, text: str, series: str = SERIES) -> str:
    rows = series.splitlines()
    rows[line - 1] = text
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------- the shipped data


@pytest.mark.parametrize("name", [WEEKLY, MONTHLY])
def test_the_shipped_series_are_listed_in_the_data_readme_with_their_hash(name: str) -> None:
    digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"`syria_2016/{name}` | `{digest}`" in readme


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data folder is not next to the project")
@pytest.mark.parametrize("name", [WEEKLY, MONTHLY])
def test_the_shipped_series_are_byte_for_byte_copies_of_the_shared_data(name: str) -> None:
    assert (DATA / name).read_bytes() == (SHARED / name).read_bytes()


def test_the_shipped_series_stop_at_the_end_of_august_2016() -> None:
    weekly = (DATA / WEEKLY).read_text(encoding="utf-8").splitlines()
    monthly = (DATA / MONTHLY).read_text(encoding="utf-8").splitlines()
    assert weekly[0].startswith("week_start,ru_incidents,") and weekly[-1].startswith("2016-08-29,")
    assert monthly[0].startswith("month,") and monthly[-1].startswith("2016-08,")


# ---------------------------------------------------------------------------- a good file


def test_a_good_series_loads_with_its_counts(tmp_path: Path) -> None:
    path = write_case(tmp_path)
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    loaded = load_scenario(path)
    series = load_observations(loaded)["ru"]
    assert series.counts.tolist() == [18, 16, 23, 18]
    assert series.counts.dtype == np.int64
    assert series.dates.dtype == np.dtype("datetime64[D]")
    assert series.dates.tolist() == [dt.date(2015, 9, 28) + dt.timedelta(days=7 * k) for k in range(4)]
    assert (series.resolution, series.date_column, series.column) == ("week", "week_start", "ru_incidents")
    assert (series.scale, series.dispersion, series.baseline) == (45.0, 5.0, 1.0)
    assert series.label == "Incidents attributed to Russia"
    assert series.sha256 == hashlib.sha256((tmp_path / "series.csv").read_bytes()).hexdigest()
    assert series.weeks.tolist() == [1.0] * 4
    with pytest.raises(ValueError):
        series.counts[0] = 0  # read-only
    with pytest.raises(AttributeError):
        series.scale = 1.0  # type: ignore[misc]  # frozen


def test_a_scenario_without_observations_has_none(tmp_path: Path) -> None:
    body = SCENARIO.split("observations:")[0]
    loaded = load_scenario(write_case(tmp_path, None, body))
    assert loaded.observed == {} and load_observations(loaded) == {}
    assert params_from_scenario(loaded.scenario).observation_values == {}


def test_blank_lines_a_byte_order_mark_crlf_and_a_named_date_column_are_read(tmp_path: Path) -> None:
    series = "\ufeffweek,n\r\n2015-09-28,1\r\n\r\n2015-10-12,0\r\n"
    scenario = SCENARIO.replace("column: ru_incidents", "column: n\n    date_column: week")
    loaded = load_scenario(write_case(tmp_path, series, scenario))
    observed = load_observations(loaded)["ru"]
    assert observed.counts.tolist() == [1, 0]  # a week left out is a week not observed
    assert observed.dates.tolist() == [dt.date(2015, 9, 28), dt.date(2015, 10, 12)]
    assert loaded.observed["ru"].lines == (2, 4)


def test_weeks_that_start_before_the_scenario_but_overlap_it_are_kept(tmp_path: Path) -> None:
    """A period overlapping the span is in it: the scenario starts on a Saturday, the weeks on Mondays."""
    scenario = SCENARIO.replace("start: 2015-09-28", "start: 2015-10-03")
    series = load_observations(load_scenario(write_case(tmp_path, scenario=scenario)))["ru"]
    assert series.dates[0] == np.datetime64("2015-09-28")


def test_the_shipped_monthly_series_loads(tmp_path: Path) -> None:
    scenario = SCENARIO.replace("start: 2015-09-28, step: week, steps: 8", "start: 2013-01-01, step: week, steps: 191")
    scenario = scenario.replace("file: series.csv", f"file: {(DATA / MONTHLY).as_posix()}")
    scenario = scenario.replace("resolution: week", "resolution: month").replace("ru_incidents", "aleppo_total")
    series = load_observations(load_scenario(write_case(tmp_path, None, scenario)))["ru"]
    assert series.periods == 44 and series.date_column == "month"
    assert series.dates[0] == np.datetime64("2013-01-01") and series.dates[-1] == np.datetime64("2016-08-01")
    assert series.counts[-1] == 1234
    assert series.weeks[1] == pytest.approx(28 / 7)


def test_the_readme_example_reads_the_shipped_weekly_series(tmp_path: Path) -> None:
    """The example of scenarios/README.md, in a scenario in a `scenarios/` folder next to a `data/` folder."""
    readme = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### `observations.<id>`") :]
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1))
    assert example["observations"]["ru_incidents"]["file"] == f"../data/syria_2016/{WEEKLY}"
    document = yaml.safe_load(SCENARIO)
    document["time"]["steps"] = 66  # to the end of 2016
    del document["observations"]
    document.update(example)
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    path = tmp_path / "scenarios" / "example.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    series = load_observations(load_scenario(path))["ru_incidents"]
    assert series.periods == 49 and int(series.counts.sum()) == 1216
    assert series.counts[:3].tolist() == [18, 16, 23]


# ---------------------------------------------------------------------------- refusals

# (case, the CSV text (or bytes, or None for no file), scenario edits (old, new), where (file name, line,
# column), the field path, a fragment of the message)
REFUSALS = [
    ("missing_file", None, (), ("scenario.yaml", FILE_LINE, FILE_COLUMN), "file", "not found"),
    ("not_utf8", replace_row(3, "2015-10-05,1\xe9,b").encode("latin-1"), (), ("series.csv", 3, 13), "file", "UTF-8"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", (), ("series.csv", 1, 1), "file", "not UTF-8"),
    ("control_character", replace_row(4, "2015-10-12,23,c\x00"), (), ("series.csv", 4, 16), "file", "U+0000"),
    ("open_quote", replace_row(3, '2015-10-05,16,"b'), (), ("series.csv", 3, 1), "file", "not a CSV file"),
    ("empty", "", (), ("series.csv", 1, 1), "file", "empty"),
    ("header_only", "week_start,ru_incidents\n", (), ("series.csv", 1, 1), "file", "no rows"),
    ("blank_header", "\nweek_start,ru_incidents\n2015-09-28,1\n", (), ("series.csv", 1, 1), "file", "blank"),
    ("too_many_values", replace_row(3, "2015-10-05,16,b,x"), (), ("series.csv", 3, 17), "file", "has 4 values"),
    ("too_few_values", replace_row(3, "2015-10-05,16"), (), ("series.csv", 3, 14), "file", "has 2 values"),
    (
        "no_date_column",
        SERIES.replace("week_start", "week"),
        (),
        ("series.csv", 1, 1),
        "date_column",
        "no column 'week_start'",
    ),
    (
        "no_named_date_column",
        SERIES,
        (("column: ru_incidents", "column: ru_incidents\n    date_column: day"),),
        ("series.csv", 1, 1),
        "date_column",
        "no column 'day'",
    ),
    (
        "no_count_column",
        SERIES,
        (("column: ru_incidents", "column: incidents"),),
        ("series.csv", 1, 1),
        "column",
        "no column 'incidents'",
    ),
    (
        "semicolons",
        SERIES.replace(",", ";"),
        (),
        ("series.csv", 1, 1),
        "date_column",
        "comma-separated",
    ),
    (
        "column_twice",
        SERIES.replace("note", "ru_incidents"),
        (),
        ("series.csv", 1, 25),
        "column",
        "more than once",
    ),
    ("not_a_number", replace_row(3, "2015-10-05,many,b"), (), ("series.csv", 3, 12), "column", "not a number"),
    ("nan", replace_row(3, "2015-10-05,nan,b"), (), ("series.csv", 3, 12), "column", "not a number"),
    ("negative", replace_row(3, "2015-10-05,-3,b"), (), ("series.csv", 3, 12), "column", "negative"),
    ("fraction", replace_row(3, "2015-10-05,2.5,b"), (), ("series.csv", 3, 12), "column", "not a whole number"),
    ("whole_as_fraction", replace_row(4, '2015-10-12,3.0,"c"'), (), ("series.csv", 4, 12), "column", "decimal point"),
    ("exponent", replace_row(3, "2015-10-05,1e3,b"), (), ("series.csv", 3, 12), "column", "an exponent"),
    ("empty_count", replace_row(3, "2015-10-05,,b"), (), ("series.csv", 3, 12), "column", "no count"),
    (
        "too_large",
        replace_row(3, "2015-10-05,9223372036854775808,b"),
        (),
        ("series.csv", 3, 12),
        "column",
        "too large",
    ),
    ("bad_date", replace_row(3, "2015-10-32,16,b"), (), ("series.csv", 3, 1), "date_column", "as a week"),
    ("other_date_form", replace_row(3, "05/10/2015,16,b"), (), ("series.csv", 3, 1), "date_column", "as a week"),
    ("duplicate_date", replace_row(4, "2015-10-05,23,c"), (), ("series.csv", 4, 1), "date_column", "given twice"),
    ("unordered_dates", replace_row(4, "2015-09-21,23,c"), (), ("series.csv", 4, 1), "date_column", "not in order"),
    ("overlapping_weeks", replace_row(4, "2015-10-08,23,c"), (), ("series.csv", 4, 1), "date_column", "overlaps"),
    (
        "week_after_the_span",
        SERIES + "2015-11-23,4,e\n",
        (),
        ("series.csv", 6, 1),
        "date_column",
        "outside the scenario",
    ),
    (
        "week_before_the_span",
        SERIES,
        (("start: 2015-09-28", "start: 2015-10-05"),),
        ("series.csv", 2, 1),
        "date_column",
        "outside the scenario",
    ),
    (
        "bad_month",
        "month,n\n2015-09,1\n2015-13,2\n",
        (("resolution: week", "resolution: month"), ("ru_incidents", "n")),
        ("series.csv", 3, 1),
        "date_column",
        "as a month",
    ),
    (
        "month_after_the_span",
        "month,n\n2015-10,1\n2015-11,2\n2015-12,3\n",
        (("resolution: week", "resolution: month"), ("ru_incidents", "n")),
        ("series.csv", 4, 1),
        "date_column",
        "outside the scenario",
    ),
]


@pytest.mark.parametrize(
    ("case", "series", "edits", "where", "key", "fragment"), REFUSALS, ids=[case[0] for case in REFUSALS]
)
def test_a_bad_series_is_refused_with_the_csv_place_and_the_field(
    tmp_path: Path,
    case: str,
    series: str | bytes | None,
    edits: tuple[tuple[str, str], ...],
    where: tuple[str, int, int],
    key: str,
    fragment: str,
) -> None:
    scenario = SCENARIO
    for old, new in edits:
        assert old in scenario
        scenario = scenario.replace(old, new)
    path = write_case(tmp_path / case, series, scenario)
    result = cli("validate", str(path))
    message = flat(result.stderr)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    name, line, column = where
    assert f"{tmp_path / case / name}:{line}:{column}: field 'observations.ru.{key}'" in message, message
    assert fragment in message, message
    assert "series.csv" in message  # the data file is named, also when it is missing
    if name == "series.csv":  # the hint says where the scenario names the file
        assert f"observations.ru.file in {path}:{FILE_LINE}:{FILE_COLUMN}" in message, message


def test_the_loader_raises_the_same_error_in_process(tmp_path: Path) -> None:
    path = write_case(tmp_path, replace_row(3, "2015-10-05,-3,b"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert (Path(error.file).name, error.line, error.column) == ("series.csv", 3, 12)
    assert error.field_path == "observations.ru.column"


@pytest.mark.parametrize("kind", ["folder", "fifo", "device", "too_large"])
def test_a_series_that_is_not_a_small_regular_file_is_refused_where_the_scenario_names_it(
    tmp_path: Path, kind: str
) -> None:
    path = write_case(tmp_path, None)
    target = tmp_path / "series.csv"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/zero")
    else:
        with target.open("wb") as handle:
            handle.truncate(10_000_001)  # sparse: no 10 MB written
    result = cli("validate", str(path))
    message = flat(result.stderr)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert f"{path}:{FILE_LINE}:{FILE_COLUMN}: field 'observations.ru.file'" in message
    assert "series.csv" in message


@pytest.mark.parametrize(
    ("edit", "field", "fragment"),
    [
        ("scale: 45", "observations.ru.model.scale", "greater than 0"),
        ("dispersion: 5", "observations.ru.model.dispersion", "greater than 0"),
        ("baseline: 1", "observations.ru.model.baseline", "greater than or equal to 0"),
    ],
)
def test_observation_parameters_out_of_range_are_refused(tmp_path: Path, edit: str, field: str, fragment: str) -> None:
    key = edit.split(":")[0]
    bad = "0" if key != "baseline" else "-1"
    path = write_case(tmp_path, scenario=SCENARIO.replace(edit, f"{key}: {bad}"))
    result = cli("validate", str(path))
    assert result.returncode == 2
    assert f"field '{field}'" in flat(result.stderr) and fragment in flat(result.stderr)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ("resolution: week", "observations.ru.resolution"),
        ("dist: negative_binomial", "observations.ru.model.dist"),
    ],
)
def test_unknown_resolutions_and_distributions_are_refused(tmp_path: Path, edit: str, field: str) -> None:
    key = edit.split(":")[0]
    path = write_case(tmp_path, scenario=SCENARIO.replace(edit, f"{key}: daily"))
    result = cli("validate", str(path))
    assert result.returncode == 2 and "scenario.yaml:" in result.stderr
    assert f"field '{field}'" in flat(result.stderr)


def test_an_observation_id_must_be_an_id(tmp_path: Path) -> None:
    path = write_case(tmp_path, scenario=SCENARIO.replace("  ru:\n", "  2ru:\n"))
    result = cli("validate", str(path))
    assert result.returncode == 2 and "observation id" in flat(result.stderr)
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- extends:


def _family(tmp_path: Path) -> tuple[Path, Path]:
    """A parent in a/ observing ../data/series.csv, and a folder b/ for its children."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "series.csv").write_text(SERIES, encoding="utf-8")
    parent = tmp_path / "a" / "parent.yaml"
    parent.parent.mkdir()
    parent.write_text(SCENARIO.replace("file: series.csv", "file: ../data/series.csv"), encoding="utf-8")
    (tmp_path / "b").mkdir()
    return parent, tmp_path / "b"


def test_a_child_inherits_its_parents_series_relative_to_the_parent(tmp_path: Path) -> None:
    _, children = _family(tmp_path)
    child = children / "child.yaml"
    child.write_text("extends: ../a/parent.yaml\nobservations:\n  ru:\n    label: the same series\n", encoding="utf-8")
    result = cli("validate", str(child))
    assert result.returncode == 0, result.stderr
    series = load_observations(load_scenario(child))["ru"]
    assert series.counts.tolist() == [18, 16, 23, 18]
    assert series.label == "the same series"
    assert series.path.resolve() == (tmp_path / "data" / "series.csv").resolve()


def test_a_childs_own_file_is_relative_to_the_child(tmp_path: Path) -> None:
    _, children = _family(tmp_path)
    (children / "series.csv").write_text("week_start,ru_incidents\n2015-09-28,7\n", encoding="utf-8")
    child = children / "child.yaml"
    child.write_text("extends: ../a/parent.yaml\nobservations:\n  ru:\n    file: series.csv\n", encoding="utf-8")
    series = load_observations(load_scenario(child))["ru"]
    assert series.counts.tolist() == [7]
    assert series.path.resolve() == (children / "series.csv").resolve()


def test_a_child_can_remove_its_parents_series(tmp_path: Path) -> None:
    _, children = _family(tmp_path)
    child = children / "child.yaml"
    child.write_text("extends: ../a/parent.yaml\nobservations:\n  ru: null\n", encoding="utf-8")
    assert load_observations(load_scenario(child)) == {}


def test_a_childs_change_that_breaks_the_parents_series_names_both_files(tmp_path: Path) -> None:
    """The child shortens the span: the CSV is refused, and the hint names the parent, which names the file."""
    parent, children = _family(tmp_path)
    child = children / "child.yaml"
    child.write_text("extends: ../a/parent.yaml\ntime:\n  start: 2015-10-12\n", encoding="utf-8")
    result = cli("validate", str(child))
    message = flat(result.stderr)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "series.csv:2:1: field 'observations.ru.date_column'" in message
    assert f"observations.ru.file in {parent.resolve()}:{FILE_LINE}:{FILE_COLUMN}" in message


def test_a_missing_parent_series_is_reported_in_the_parent(tmp_path: Path) -> None:
    parent, children = _family(tmp_path)
    (tmp_path / "data" / "series.csv").unlink()
    child = children / "child.yaml"
    child.write_text("extends: ../a/parent.yaml\n", encoding="utf-8")
    result = cli("validate", str(child))
    assert result.returncode == 2
    assert f"{parent.resolve()}:{FILE_LINE}:{FILE_COLUMN}: field 'observations.ru.file'" in flat(result.stderr)


# ---------------------------------------------------------------------------- uncertain observation parameters


def test_observation_parameters_are_per_run_arrays_that_uncertain_can_set(tmp_path: Path) -> None:
    scenario = SCENARIO + "uncertain:\n  observations.ru.model.scale: {dist: uniform, low: 20, high: 80}\n"
    loaded = load_scenario(write_case(tmp_path, scenario=scenario))
    params = params_from_scenario(loaded.scenario, runs=3)
    assert set(params.observation_values) == {"ru.scale", "ru.dispersion", "ru.baseline"}
    assert params.observation_values["ru.dispersion"].tolist() == [5.0] * 3
    set_field(params, "observations.ru.model.scale", np.array([20.0, 50.0, 80.0]))
    scale, dispersion, baseline = load_observations(loaded)["ru"].parameters(params)
    assert scale.tolist() == [20.0, 50.0, 80.0] and baseline.tolist() == [1.0] * 3
    assert dispersion.tolist() == [5.0] * 3
    assert field_value_problem(loaded.scenario, "observations.ru.model.dispersion", 0.0) is not None
    assert field_value_problem(loaded.scenario, "observations.ru.model.baseline", 0.0) is None


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("observations.ru.model.scale: {dist: uniform, low: -1, high: 80}", "the distribution reaches -1"),
        ("observations.ru.model.baseline: {dist: normal, mean: 0.5, sd: 1}", "which the field refuses"),
        ("observations.ru.model.shape: {dist: uniform, low: 1, high: 2}", "is not a numeric field"),
        ("observations.nope.model.scale: {dist: uniform, low: 1, high: 2}", "is not a numeric field"),
    ],
)
def test_uncertain_observation_parameters_are_checked(tmp_path: Path, entry: str, fragment: str) -> None:
    path = write_case(tmp_path, scenario=SCENARIO + f"uncertain:\n  {entry}\n")
    result = cli("validate", str(path))
    assert result.returncode == 2, result.stdout
    assert fragment in flat(result.stderr) and "Traceback" not in result.stderr


def test_a_hand_made_loaded_scenario_reads_its_series_on_demand(tmp_path: Path) -> None:
    loaded = load_scenario(write_case(tmp_path))
    bare = LoadedScenario(scenario=loaded.scenario, path=loaded.path, sha256=loaded.sha256)
    assert load_observations(bare)["ru"].counts.tolist() == [18, 16, 23, 18]


# ---------------------------------------------------------------------------- the mathematics


def test_negative_binomial_mean_and_variance_by_sampling() -> None:
    """NB2: E = mu, Var = mu + mu^2 / r, per run (a leading run axis with its own dispersion)."""
    rng = np.random.default_rng(12)
    mean = np.array([[12.0, 3.0], [12.0, 40.0]])  # (N=2 runs, P=2 periods)
    dispersion = np.array([3.0, 0.5])
    draws = np.stack([sample_counts(rng, mean, dispersion) for _ in range(100_000)])
    assert draws.dtype == np.int64 and draws.shape == (100_000, 2, 2)
    variance = mean + mean**2 / dispersion[:, None]
    np.testing.assert_allclose(draws.mean(axis=0), mean, rtol=0.02)
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.05)


def test_a_mean_of_zero_gives_zero_counts() -> None:
    rng = np.random.default_rng(1)
    assert sample_counts(rng, np.zeros((3, 4)), 2.0).tolist() == [[0] * 4] * 3
    logp = negative_binomial_logpmf(np.array([0, 3]), np.array([0.0, 0.0]), 2.0)
    assert logp[0] == 0.0 and logp[1] == -np.inf


@pytest.mark.parametrize(("mu", "r"), [(0.3, 0.2), (20.0, 0.5), (45.0, 5.0), (4.0, 1e4)])
def test_the_logpmf_sums_to_one_and_matches_scipy(mu: float, r: float) -> None:
    counts = np.arange(0, 5_000)
    logp = negative_binomial_logpmf(counts, np.full(counts.shape, mu), r)
    assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(logp[:200], stats.nbinom.logpmf(counts[:200], r, r / (r + mu)), rtol=1e-9, atol=1e-9)
    assert (np.exp(logp) * counts).sum() == pytest.approx(mu, rel=1e-8)


def test_the_logpmf_tends_to_the_poisson_as_the_dispersion_grows() -> None:
    """The gap to the Poisson shrinks as 1/r (to first order ((y - mu)^2 - y) / (2 r)) down to the
    largest dispersion a scenario allows and beyond."""
    counts = np.arange(0, 41)
    mu = np.full(counts.shape, 20.0)
    poisson = stats.poisson.logpmf(counts, 20.0)
    dispersions = (1e2, 1e4, 1e6, 1e8)
    gaps = [np.abs(negative_binomial_logpmf(counts, mu, r) - poisson).max() for r in dispersions]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[1] * 1e4 == pytest.approx(gaps[2] * 1e6, rel=0.01)  # O(1/r), not lost to rounding
    assert gaps[-1] < 1e-5


def test_the_logpmf_is_vectorised_over_runs() -> None:
    counts = np.array([3, 0, 10])
    mean = np.array([[2.0, 1.0, 8.0], [5.0, 0.5, 12.0]])
    dispersion = np.array([1.5, 20.0])
    logp = negative_binomial_logpmf(counts, mean, dispersion)
    assert logp.shape == (2, 3)
    for run in range(2):
        np.testing.assert_allclose(logp[run], negative_binomial_logpmf(counts, mean[run], dispersion[run]))


def test_expected_counts_are_the_baseline_plus_the_scaled_intensity_per_week() -> None:
    intensity = np.array([[1.0, 0.5, 0.0], [0.2, 0.2, 0.2]])
    got = expected_counts(intensity, np.array([40.0, 10.0]), np.array([2.0, 0.0]))
    np.testing.assert_allclose(got, [[42.0, 22.0, 2.0], [2.0, 2.0, 2.0]])
    weeks = period_weeks(np.array(["2016-01", "2016-02", "2016-04"], dtype="datetime64[D]"), "month")
    np.testing.assert_allclose(weeks, [31 / 7, 29 / 7, 30 / 7])
    np.testing.assert_allclose(expected_counts(np.ones(3), 7.0, 0.0, weeks), [31.0, 29.0, 30.0])


def test_aggregate_weights_each_step_by_its_days_in_the_week() -> None:
    """Weekly steps from Saturday 27 February 2016 against weeks from Mondays: 5/7 of one step, 2/7 of
    the next."""
    steps = step_dates_from(dt.date(2016, 2, 27), 4, 7)
    values = np.array([[1.0, 0.0, 0.5, 0.25], [0.0, 1.0, 1.0, 1.0]])
    weeks = [dt.date(2016, 2, 29), dt.date(2016, 3, 7), dt.date(2016, 3, 14)]
    got = aggregate(steps, values, weeks, "week")
    expected = np.array(
        [[5 / 7 * 1.0 + 2 / 7 * 0.0, 5 / 7 * 0.0 + 2 / 7 * 0.5, 5 / 7 * 0.5 + 2 / 7 * 0.25], [2 / 7, 1.0, 1.0]]
    )
    np.testing.assert_allclose(got, expected)


def test_aggregate_of_daily_steps_is_the_mean_over_the_period() -> None:
    steps = step_dates_from(dt.date(2016, 1, 1), 60, 1)
    values = np.arange(60, dtype=float)  # day k of 2016 has value k
    got = aggregate(steps, values, [dt.date(2016, 1, 4), dt.date(2016, 2, 1)], "week", step_days=1)
    np.testing.assert_allclose(got, [np.mean(np.arange(3, 10)), np.mean(np.arange(31, 38))])
    month = aggregate(steps, values, [dt.date(2016, 1, 1), dt.date(2016, 2, 15)], "month", step_days=1)
    np.testing.assert_allclose(month, [np.mean(np.arange(0, 31)), np.mean(np.arange(31, 60))])


def test_aggregate_over_a_month_of_weekly_steps_and_the_same_fighting_in_days() -> None:
    """January 2016 from weekly steps starting Monday 28 December 2015: 3, 7, 7, 7, 7 days; daily steps
    with the same fighting give the same mean."""
    steps = step_dates_from(dt.date(2015, 12, 28), 5, 7)
    weekly = np.array([1.0, 0.0, 0.5, 0.5, 1.0])
    got = aggregate(steps, weekly, [dt.date(2016, 1, 1)], "month")
    np.testing.assert_allclose(got, [(3 * 1.0 + 7 * 0.0 + 7 * 0.5 + 7 * 0.5 + 7 * 1.0) / 31])
    assert overlap_days(steps, [dt.date(2016, 1, 1)], "month")[:, 0].tolist() == [3, 7, 7, 7, 7]
    days = step_dates_from(dt.date(2015, 12, 28), 35, 1)
    np.testing.assert_allclose(aggregate(days, np.repeat(weekly, 7), [dt.date(2016, 1, 1)], "month", 1), got)


def test_a_period_no_step_touches_is_nan() -> None:
    steps = step_dates_from(dt.date(2016, 1, 4), 2, 7)
    got = aggregate(steps, np.ones((3, 2)), [dt.date(2016, 1, 4), dt.date(2016, 3, 7)], "week")
    assert got.shape == (3, 2)
    assert np.all(got[:, 0] == 1.0) and np.all(np.isnan(got[:, 1]))


def test_the_scenarios_step_dates_feed_the_aggregation(tmp_path: Path) -> None:
    loaded = load_scenario(write_case(tmp_path))
    time = loaded.scenario.time
    steps = step_dates(time)
    assert steps.shape == (8,) and steps[1] - steps[0] == np.timedelta64(7, "D")
    series = load_observations(loaded)["ru"]
    intensity = aggregate(steps, np.full((2, 8), 0.5), series.dates, series.resolution, time.step_days)
    mean = expected_counts(intensity, series.scale, series.baseline, series.weeks)
    np.testing.assert_allclose(mean, np.full((2, 4), 1.0 + 45.0 * 0.5))
    assert negative_binomial_logpmf(series.counts, mean, series.dispersion).shape == (2, 4)


def step_dates_from(start: dt.date, steps: int, step_days: int) -> np.ndarray:
    return np.datetime64(start, "D") + np.arange(steps) * step_days


def test_the_window_leaves_out_periods_outside_since_and_until() -> None:
    """syria_2016.yaml uses the Airwars weekly series `until` 31 August 2016: the week of 29 August, which
    runs into September (what calibration must not see), is left out, and every other week is used."""
    from sim.scenario.loader import load_scenario
    from sim.scenario.observations import load_observations

    series = load_observations(load_scenario(ROOT / "scenarios" / "syria_2016.yaml"))["russian_strike_incidents"]
    assert str(series.dates[0]) == "2015-09-28" and str(series.dates[-1]) == "2016-08-22"
    assert len(series.counts) == 48


def test_since_lets_a_longer_series_serve_a_shorter_scenario(tmp_path: Path) -> None:
    """The UCDP monthly file starts in 2013, long before syria_2016.yaml: without a window its first months
    are refused as outside the scenario; with `since` at the scenario's first whole month they are skipped."""
    scenario = (ROOT / "scenarios" / "syria_2016.yaml").read_text(encoding="utf-8")
    block = (
        "observations:\n  deaths:\n    file: {file}\n    column: total_excl_unknown\n    resolution: month\n"
        "{window}    model: {{scale: 100.0, dispersion: 2.0}}\n"
    )
    for window, ok in (("", False), ("    since: 2015-10-01\n", True)):
        text = scenario.replace("observations:\n", "observations_unused:\n", 1).split("observations_unused:")[0]
        text += block.format(file=(DATA / "ucdp_ged_monthly_2013-01_2016-08.csv").as_posix(), window=window)
        path = tmp_path / f"ucdp_{ok}.yaml"
        path.write_text(text, encoding="utf-8")
        done = cli("validate", str(path))
        assert (done.returncode == 0) == ok, done.stderr
        if not ok:
            assert "outside the scenario" in flat(done.stderr)
