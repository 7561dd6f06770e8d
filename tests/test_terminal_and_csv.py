"""Scenario text is safe wherever it goes besides HTML: on the terminal and in CSV files.

On the terminal, control and escape sequences (colours, OSC 8 links, clearing the screen), bidi
overrides and zero-width characters from a scenario are shown as escapes, and Rich markup in it is
shown as written, in every command's normal output as in its errors. In a CSV file, a text cell that a
spreadsheet would read as a formula gets a leading single quote; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from sim.outputs import FORMULA_LEADS, csv_text, spreadsheet_cell
from tests.strategies import dump, shipped_document

ROOT = Path(__file__).resolve().parent.parent
MARCH = ROOT / "scenarios" / "ceasefire_2016_03.yaml"

# What a hostile scenario can hide in its text: a colour (CSI), an OSC 8 hyperlink, a bell, a C1 CSI,
# bidi embeddings, overrides and isolates, zero-width characters, and Rich markup.
ESC = "\x1b"
HOSTILE = (
    f"{ESC}[31mRED{ESC}[0m {ESC}]8;;http://evil.example/{ESC}\\link{ESC}]8;;{ESC}\\ \x07\x9b"
    " \u202ab\u202bb\u202cb\u202db\u202eevil\u202c \u2066i\u2067i\u2068i\u2069"
    " z\u200bw\u200cj\u200dj\ufeffb\u2060w [bold]bold[/bold] [link=http://evil.example/]x[/link]"
)
INVISIBLE = [char for char in set(HOSTILE) if unicodedata.category(char) in ("Cc", "Cf")]


def raw_invisible(text: str) -> list[str]:
    """Control and format characters in `text` other than line ends: what must never reach a terminal."""
    return sorted({repr(char) for char in text if unicodedata.category(char) in ("Cc", "Cf") and char != "\n"})


def hostile_scenario(folder: Path, name: str = "hostile.yaml") -> Path:
    """March 2016 with the hostile text in every string a command may print."""
    document = shipped_document(MARCH)
    document["name"] = f"Name {HOSTILE}"
    document["description"] = f"Description {HOSTILE}. Second sentence."
    for actor in document["actors"].values():
        actor["name"] = f"{actor['name']} {HOSTILE}"
    for issue in document["issues"].values():
        issue["levels"] = {f"{level} {HOSTILE}": value for level, value in issue.get("levels", {}).items()}
    path = folder / name
    path.write_text(dump(document), encoding="utf-8")
    return path


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )


# --- the terminal -------------------------------------------------------------------------------------


def test_safe_escapes_every_invisible_character_and_keeps_markup_as_text() -> None:
    import cli

    console = Console(file=io.StringIO(), width=2000, color_system=None)
    console.print(cli.safe(HOSTILE), highlight=False)
    shown = console.file.getvalue()
    assert raw_invisible(shown) == []
    for char in INVISIBLE:  # each shown as its escape: \x1b, \x07, \x9b, \u202e, \u200b, \ufeff, ...
        assert char.encode("unicode_escape").decode("ascii") in shown, repr(char)
    assert "[bold]bold[/bold]" in shown and "[link=http://evil.example/]x[/link]" in shown


def test_safe_is_the_escaping_of_error_messages() -> None:
    """One function for errors and normal output: `printable` from the loader, then Rich's markup escape."""
    import cli
    from sim.scenario.loader import printable

    assert Console(file=io.StringIO()).render_str(cli.safe(HOSTILE)).plain == printable(HOSTILE)


def test_the_outcome_sentence_of_every_command_is_printed_safely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run`, `compare`, `ensemble`, `sweep` and `sensitivity` all print their outcome through one function."""
    import cli

    folder = tmp_path / f"o{ESC}[2J\u202e[b]"
    cli._report_written([folder / "report.html"], HOSTILE, folder)
    printed = capsys.readouterr().out
    assert raw_invisible(printed) == []
    assert "\\x1b[31mRED" in printed and "\\u202eevil" in printed and "[bold]bold[/bold]" in printed
    assert "o\\x1b[2J\\u202e[b]" in printed  # the report's path too


def test_validate_and_list_show_scenario_text_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = hostile_scenario(folder, f"a{ESC}[2Jb\u202e.yaml")  # the file name too
    validated = cli("validate", str(path))
    listed = cli("list", "--folder", str(folder))
    for result in (validated, listed):
        assert result.returncode == 0, result.stderr
        assert raw_invisible(result.stdout + result.stderr) == []
        assert "\\x1b]8;;http://evil.example/" in result.stdout and "\\u202eevil" in result.stdout
        assert "[bold]bold[/bold]" in result.stdout
    assert "a\\x1b[2Jb\\u202e.yaml" in validated.stdout and "a\\x1b[2Jb\\u202e.yaml" in listed.stdout


def test_run_prints_its_outcome_escaped(tmp_path: Path) -> None:
    result = cli("run", str(hostile_scenario(tmp_path)), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert raw_invisible(result.stdout + result.stderr) == []
    # The outcome names the deal's terms (issue levels) and who broke an agreement (actor names).
    assert "\\x1b[31mRED" in result.stdout and "\\u202eevil" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("compare", "{path}", "{path}"),
        ("ensemble", "{path}", "--runs", "8", "--workers", "1"),
        ("sweep", "{path}", "--set", "actors.us.war_cost=0.01,0.02", "--runs", "2", "--workers", "1"),
        ("sensitivity", "{path}", "--method", "morris", "--samples", "2", "--workers", "1"),
    ],
    ids=lambda command: command[0],
)
def test_every_many_run_command_prints_nothing_raw(command: tuple[str, ...], tmp_path: Path) -> None:
    path = str(hostile_scenario(tmp_path))
    result = cli(*(part.format(path=path) for part in command), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert raw_invisible(result.stdout + result.stderr) == []


def test_errors_are_escaped_through_the_same_function(tmp_path: Path) -> None:
    """An output folder whose name holds an escape sequence: the error shows it escaped."""
    folder = tmp_path / f"out{ESC}[2J[bold]"
    folder.mkdir()
    (folder / "notes.txt").write_text("someone's", encoding="utf-8")
    result = cli("run", str(MARCH), "--out", str(folder))
    assert result.returncode == 1
    assert raw_invisible(result.stderr) == [] and "out\\x1b[2J[bold]" in result.stderr


# --- CSV files ------------------------------------------------------------------------------------------

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1:A2)", "\tx", "\rx", '=HYPERLINK("http://evil.example/","x")']


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def as_cell(text: str) -> str:
    """What a formula-like text becomes in a CSV cell: quoted, with carriage returns as newlines."""
    return ("'" + text).replace("\r", "\n")


def test_formula_like_text_cells_get_a_leading_quote() -> None:
    for text in FORMULAS:
        assert spreadsheet_cell(text) == as_cell(text)
    for value in ("plain", "", "a=b", " =1", -1, -1.5, 0, True, None):
        assert spreadsheet_cell(value) == value
    assert set(FORMULA_LEADS) == {"=", "+", "-", "@", "\t", "\r"}


def test_csv_text_neutralises_text_cells_and_headers_and_keeps_numbers() -> None:
    frame = pd.DataFrame(
        {
            "actor": [*FORMULAS, "plain"],
            "label": pd.Series([*FORMULAS[::-1], None], dtype=object),
            "value": [-1.5, -2.0, 0.25, -3e-12, 4.0, -5.5, 6.0, -7.0],
            "count": [-1, -2, 3, -4, 5, -6, 7, -8],
            "flag": [True, False] * 4,
            "=leverage_on_x": [-0.5] * 8,
        }
    )
    rows = parsed(csv_text(frame))
    assert rows[0] == ["actor", "label", "value", "count", "flag", "'=leverage_on_x"]
    body = rows[1:]
    assert [row[0] for row in body] == [*map(as_cell, FORMULAS), "plain"]
    assert [row[1] for row in body] == [*map(as_cell, FORMULAS[::-1]), ""]
    assert [float(row[2]) for row in body] == frame["value"].tolist()  # negative numbers stay numbers
    assert [int(row[3]) for row in body] == frame["count"].tolist()
    assert [row[5] for row in body] == ["-0.5"] * 8
    assert frame["actor"].iloc[0] == "=1+1"  # the frame itself is left as it was


def test_a_carriage_return_inside_a_cell_cannot_start_a_row_with_a_formula() -> None:
    frame = pd.DataFrame({"events": ["note\r=HYPERLINK(1)", "a\r\nb", "plain"], "value": [-1.0, 2.0, 3.0]})
    rows = parsed(csv_text(frame))
    assert rows == [["events", "value"], ["note\n=HYPERLINK(1)", "-1"], ["a\nb", "2"], ["plain", "3"]]


def test_timeseries_csv_of_a_run_has_no_formula_cells(tmp_path: Path) -> None:
    """An event label from the scenario reaches timeseries.csv as text, not as a formula."""
    from sim.api import timeseries_csv
    from sim.model.results import run_scenario
    from sim.scenario.loader import load_scenario

    document = shipped_document(MARCH)
    labels = {}
    for index, event in enumerate(document["events"].values()):
        event["label"] = labels[index] = FORMULAS[index % len(FORMULAS)]
    path = tmp_path / "formulas.yaml"
    path.write_text(dump(document), encoding="utf-8")
    rows = parsed(timeseries_csv(run_scenario(load_scenario(path))))
    header, body = rows[0], rows[1:]
    events = [row[header.index("events")] for row in body if row[header.index("events")]]
    assert events and all(cell.startswith("'") for cell in events)
    assert set(events) <= {as_cell(label) for label in labels.values()}
    numbers = [cell for row in body for cell in row if _is_number(cell)]
    assert any(cell.startswith("-") for cell in numbers)  # the alternatives (batna) go below zero
    assert not [cell for row in body for cell in row if cell.startswith(FORMULA_LEADS) and not _is_number(cell)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# --- output piped to a file, and the progress bar ------------------------------------------------------


def test_piped_output_is_never_wrapped_and_keeps_paths_whole(tmp_path: Path) -> None:
    """Piped, Rich would cut lines at 80 columns (or at the width of the terminal stdin is): a path split
    over two lines cannot be pasted back. COLUMNS=80 must not matter when stdout is not a terminal."""
    folder = tmp_path / ("a_rather_long_folder_name_" * 6).rstrip("_")
    folder.mkdir()
    path = folder / "ceasefire_copy.yaml"
    path.write_text(MARCH.read_text(encoding="utf-8"), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "COLUMNS": "80"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and len(lines[0]) > 200, lines


def test_the_console_wraps_only_on_a_terminal() -> None:
    import cli

    text = "word " * 60 + str(Path("/some") / ("folder_" * 30) / "report.html")
    piped = cli._Console(file=io.StringIO(), color_system=None)
    piped.print(text, highlight=False)
    assert piped.file.getvalue().count("\n") == 1
    terminal = cli._Console(file=io.StringIO(), color_system=None, force_terminal=True, width=80)
    terminal.print(text, highlight=False)
    assert terminal.file.getvalue().count("\n") > 1  # on a terminal Rich still fits the window


def test_each_time_on_the_progress_bar_stands_before_its_own_word() -> None:
    """After 30 s with three quarters done: '0:00:30 elapsed', '0:00:10 left' (the elapsed time used to
    stand before the word 'left')."""
    from rich.progress import Progress

    import cli

    clock = [0.0]
    console = Console(file=io.StringIO(), width=200, color_system=None)
    progress = Progress(*cli._progress_columns(), console=console, get_time=lambda: clock[0])
    task = progress.add_task("1,000 runs", total=1000)
    progress.start_task(task)
    for now, done in ((15.0, 375), (30.0, 750)):  # 25 runs a second: the last 250 take 10 s
        clock[0] = now
        progress.update(task, completed=done)
    console.print(progress.make_tasks_table(progress.tasks))
    shown = " ".join(console.file.getvalue().split())
    assert "750/1000 runs, 0:00:30 elapsed, 0:00:10 left" in shown, shown


# --- a CSV file next to every Parquet file ---------------------------------------------------------------


def test_parquet_csv_keeps_every_value_and_neutralises_formulas(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.outputs import parquet_csv

    source = tmp_path / "runs.parquet"
    with pq.ParquetWriter(source, pa.schema([("=x", pa.string()), ("step", pa.int64()), ("v", pa.float64())])) as sink:
        sink.write_table(pa.table({"=x": ["=1+1", "plain"], "step": [3, None], "v": [0.1 + 0.2, -1.5]}))
        sink.write_table(pa.table({"=x": ["@SUM(A1)", "-2"], "step": [None, 12], "v": [float("nan"), 2e-17]}))
    target = tmp_path / "runs.csv"
    parquet_csv(source)(target)
    rows = parsed(target.read_text(encoding="utf-8"))
    assert rows == [
        ["'=x", "step", "v"],
        ["'=1+1", "3", repr(0.1 + 0.2)],  # the shortest form that reads back to the same double
        ["plain", "", "-1.5"],  # a null is an empty cell; a whole number has no decimal point
        ["'@SUM(A1)", "", ""],
        ["'-2", "12", "2e-17"],  # text that looks like a negative number is still text
    ]


@pytest.mark.parametrize("kind", ["ensemble", "sweep", "sensitivity"])
def test_every_many_run_command_writes_a_csv_beside_its_parquet(kind: str, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from sim import api
    from sim.runs.distributed import InProcess
    from sim.scenario.loader import load_scenario

    loaded = load_scenario(MARCH)
    folder = tmp_path / kind
    if kind == "ensemble":
        written = api.write_monte_carlo(api.plan_monte_carlo(loaded, 12, seed=1), folder, InProcess())
    elif kind == "sweep":
        plan = api.plan_sweep(loaded, ["actors.us.war_cost=0.01,0.02"], 3, seed=1)
        written = api.write_sweep(plan, folder, InProcess())
    else:
        written = api.write_sensitivity(api.plan_sensitivity(loaded, "morris", 2, seed=1), folder, InProcess())
    parquets = [path for path in written if path.suffix == ".parquet"]
    assert parquets
    for parquet in parquets:
        csv_path = parquet.with_suffix(".csv")
        assert csv_path in written
        table = pq.read_table(parquet)
        frame = pd.read_csv(csv_path, keep_default_na=False)
        assert list(frame.columns) == table.column_names and len(frame) == table.num_rows
        for name in table.column_names:
            expected = table.column(name).to_pylist()
            got = ["" if cell == "" else cell for cell in frame[name].tolist()]
            for cell, value in zip(got, expected, strict=True):
                if value is None or (isinstance(value, float) and value != value):
                    assert cell == "", (name, cell)
                elif isinstance(value, bool):
                    assert str(cell) == str(value), (name, cell)
                elif isinstance(value, int):
                    assert int(cell) == value, (name, cell, value)  # seeds: 63-bit, beyond a double
                else:
                    assert float(cell) == value, (name, cell, value)  # exact: the row replays
