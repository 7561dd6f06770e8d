"""Command line for the negotiation-leverage model: parse, call `sim`, print.

Run `python cli.py --help`, or `negotiation-sim --help` once installed.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, ConsoleDimensions
from rich.table import Table

PROJECT_ROOT = Path(__file__).resolve().parent
SCENARIOS = PROJECT_ROOT / "scenarios"
REPORTS = PROJECT_ROOT / "reports"
DEFAULT_SCENARIO = SCENARIOS / "ceasefire_2016_03.yaml"

app = typer.Typer(
    help="Simulate the 2016 Syria ceasefire talks: who had leverage, what each side's alternative to a deal was "
    "worth, and whether a deal was reached. Scenarios are YAML files; see scenarios/README.md.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
PIPED_WIDTH = 10_000  # the width of output that goes to a file or a pipe: wider than any line we print


class _Console(Console):
    """A Rich console that wraps lines only on a terminal.

    Piped or redirected to a file, Rich would cut every line at 80 columns (or at the width of whatever
    terminal stdin is), splitting paths and sentences where a script or a reader cannot put them back
    together; there, lines are never wrapped (soft wrap) and tables are laid out `PIPED_WIDTH` wide.
    """

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)
        return size if self.is_terminal else ConsoleDimensions(PIPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)

    @property
    def soft_wrap(self) -> bool:
        return self._soft_wrap or not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        self._soft_wrap = value


out = _Console()
err = _Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from sim import __version__

        out.print(f"negotiation-sim {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """Simulate the 2016 Syria ceasefire talks (see `--help` of each command)."""


ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="Scenario YAML file. Default: scenarios/ceasefire_2016_03.yaml.", show_default=False),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]


def safe(text: object) -> str:
    """`text` as Rich markup that prints exactly as written, with nothing in it able to drive the terminal.

    Scenario text (names, descriptions, ids, outcome sentences) and paths are the user's: control and
    escape sequences (colours, OSC 8 links, clearing the screen), bidi overrides and zero-width characters
    are shown as escapes (`\\x1b`, `\\u202e`) by the same function as in error messages, and brackets are
    escaped so that "[bold]" stays text.
    """
    from rich.markup import escape

    from sim.scenario.loader import printable

    return escape(printable(str(text)))


def fail(message: str, code: int = 2) -> None:
    """Print `message` (plain text, made `safe` here) as one error paragraph and exit with `code`."""
    err.print(f"[bold red]error:[/] {safe(message)}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C raises KeyboardInterrupt, so that every clean-up written for
    Ctrl-C (staging folders, worker processes) runs for them too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _terminations_as_interrupts() -> Iterator[None]:
    """SIGTERM (sent by `timeout`, systemd, CI) and SIGHUP (a closed terminal) stop the command like Ctrl-C.

    By default they end the process at once: a staging folder and its half-written Parquet file stay
    behind, and worker processes' semaphores leak. The handlers are put back afterwards (a test may call
    a command in-process). Only the main thread can set handlers; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise_terminated) for signum in TERMINATING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


@contextlib.contextmanager
def _skipped_files_as_warnings() -> Iterator[None]:
    """Print each file skipped while reading back a folder we write into as one `warning:` line."""
    from sim.outputs import SkippedFile

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            if issubclass(category, SkippedFile):
                err.print(f"warning: {safe(message)}", highlight=False, soft_wrap=True)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def guarded(debug: bool, action):
    """Run `action`; a bad scenario exits 2, an output problem 1, an interruption 128 + the signal's number
    (Ctrl-C 130, SIGHUP 129, SIGTERM 143), each with one message.

    With `debug`, the traceback is printed first. Any other exception is a bug: a one-line
    message and exit code 1 (its traceback with `debug`).
    """
    import click

    from sim.outputs import OutputError
    from sim.scenario.limits import LimitError
    from sim.scenario.loader import ScenarioError

    try:
        with _terminations_as_interrupts(), _skipped_files_as_warnings():
            return action()
    except ScenarioError as error:
        _traceback_if(debug)
        fail(error.render())
    except LimitError as error:
        _traceback_if(debug)
        fail(str(error))
    except OutputError as error:
        _traceback_if(debug)
        fail(str(error), code=1)
    except KeyboardInterrupt as error:
        _traceback_if(debug)
        signum = getattr(error, "signum", signal.SIGINT)
        by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        err.print(f"interrupted{by}: nothing was written.")
        raise typer.Exit(128 + signum) from None
    except (typer.Exit, click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except Exception as error:
        if debug:
            raise
        fail(
            f"internal error ({type(error).__name__}: {error}). This is a bug; "
            "run again with --debug to see where it happened.",
            code=1,
        )


def _traceback_if(debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)


def _resolve_scenario(path: Path | None) -> Path:
    if path is None:
        return DEFAULT_SCENARIO
    if not path.exists() and not path.is_absolute() and (SCENARIOS / path.name).exists() and path.parent == Path("."):
        return SCENARIOS / path.name
    return path


def _report_written(written: list[Path], outcome: str, folder: Path) -> None:
    """Print the outcome and where the report is; refresh reports/index.html when writing under reports/."""
    out.print(safe(outcome), highlight=False)
    out.print(f"report: {safe(next(p for p in written if p.name == 'report.html'))}", highlight=False)
    from sim.reports.index import refresh_index

    index = refresh_index(folder)
    if index is not None:
        out.print(f"index: {safe(index)}", highlight=False)


@app.command()
def run(
    scenario: ScenarioArg = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder. Default: reports/<scenario name>.", show_default=False),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's own).", min=0)] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that holds other files.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Run one scenario and write report.html, summary.json and timeseries.csv."""
    from sim.outputs import check_output_folder
    from sim.scenario.loader import load_scenario

    path = _resolve_scenario(scenario)

    def action() -> None:
        loaded = load_scenario(path)
        folder = out_dir if out_dir is not None else REPORTS / path.stem
        check_output_folder(folder, force)  # before the run, not after it
        from sim.runs.spread import start_seed_spread

        # the same scenario over other seeds, for the report's header, on the other core meanwhile
        spread = start_seed_spread(loaded.scenario, loaded.scenario.seed if seed is None else seed)
        from sim.api import write_run_outputs  # the model and report libraries load only for a good scenario
        from sim.model.results import run_scenario

        with err.status(f"running {safe(loaded.scenario.name)} ...", spinner="dots"):
            result = run_scenario(loaded, seed=seed)
            written = write_run_outputs(result, folder, force=force, spread=spread.result())
        _report_written(written, result.summary["outcome"], folder)

    guarded(debug, action)


@app.command()
def compare(
    scenario_a: Annotated[Path, typer.Argument(help="Scenario A (drawn solid).", show_default=False)],
    scenario_b: Annotated[Path, typer.Argument(help="Scenario B (drawn dashed).", show_default=False)],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder. Default: reports/<A>_vs_<B>.", show_default=False),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed for both (default: each scenario's own).", min=0)
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that holds other files.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Run two scenarios and write one report of them side by side (report.html, comparison.json)."""
    from sim.outputs import check_output_folder
    from sim.scenario.loader import load_scenario

    path_a, path_b = _resolve_scenario(scenario_a), _resolve_scenario(scenario_b)

    def action() -> None:
        load_scenario(path_a), load_scenario(path_b)  # both must be valid before anything runs
        folder = out_dir if out_dir is not None else REPORTS / f"{path_a.stem}_vs_{path_b.stem}"
        check_output_folder(folder, force)
        from sim.api import compare_scenarios, write_comparison
        from sim.runs.comparison import comparison_data, comparison_outcome

        with err.status("running both scenarios ...", spinner="dots"):
            comparison = compare_scenarios(path_a, path_b, seed=seed)
            written = write_comparison(comparison, folder, force=force)
        _report_written(written, comparison_outcome(comparison_data(comparison)), folder)

    guarded(debug, action)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.", show_default=False)],
    debug: DebugOpt = False,
) -> None:
    """Check scenario files and explain any problem (exit code 2 if one is invalid)."""
    from sim.scenario.loader import ScenarioError, load_scenario

    bad = 0
    for path in files:
        try:
            loaded = load_scenario(path)
        except ScenarioError as error:
            _traceback_if(debug)
            bad += 1
            err.print(f"[bold red]invalid:[/] {safe(error.render())}", highlight=False, soft_wrap=True)
            continue
        scenario = loaded.scenario
        out.print(
            f"ok: {safe(path)} ({safe(scenario.name)}: {len(scenario.actors)} actors, {len(scenario.issues)} "
            f"issues, {scenario.time.steps} {scenario.time.step}s, {len(scenario.events)} events)",
            highlight=False,
        )
    if bad:
        raise typer.Exit(2)


@app.command("validate-cases")
def validate_cases(
    runs: Annotated[
        int | None, typer.Option("--runs", "-n", min=1, help="Runs per case (default: the expectations', 100).")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Ensemble seed (default: the expectations', 42).")] = None,
    expectations: Annotated[
        Path | None,
        typer.Option(help="Expectations file. Default: scenarios/validation/expectations.yaml.", show_default=False),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Run every historical validation case (docs/VALIDATION.md) and print each criterion: measured, threshold,
    pass or fail. A report: exit code 0 whatever passes or fails, 2 if the expectations or a case cannot be used."""
    from sim.validation.cases import CasesError, load_expectations, run_case

    def action() -> None:
        path = expectations if expectations is not None else SCENARIOS / "validation" / "expectations.yaml"
        try:
            loaded = load_expectations(path)
            count = runs if runs is not None else loaded.expectations.runs
            _check_counts(count, None)
            ensemble_seed = seed if seed is not None else loaded.expectations.seed
            results = []
            for case in loaded.expectations.cases:
                err.print(f"running {safe(case.id)} ({safe(case.file)})", highlight=False)
                results.append(run_case(loaded, case, count, ensemble_seed))
        except CasesError as error:
            fail(str(error))
        table = Table(title=f"Validation cases: {count:,} runs each, seed {ensemble_seed}", title_justify="left")
        for column in ("case", "criterion", "measured", "threshold", "result"):
            table.add_column(column, overflow="fold")
        colours = {"pass": "green", "fail": "bold red", "reported": "dim"}
        for result in results:
            for row, measurement in enumerate(result.measurements):
                criterion = measurement.criterion
                source = f", {len(result.single_seeds)} single runs" if criterion.source == "single_runs" else ""
                table.add_row(
                    safe(f"{result.case.id} {result.case.name}") if row == 0 else "",
                    safe(f"({criterion.id}{source}) {criterion.text}"),
                    safe(measurement.measured_text()),
                    safe(measurement.threshold_text()),
                    f"[{colours[measurement.verdict]}]{measurement.verdict}[/]",
                    end_section=row == len(result.measurements) - 1,
                )
        out.print(table)
        for result in results:
            verdict = "pass" if result.passed else f"fail ({', '.join(result.failed_items)})"
            out.print(safe(f"{result.case.id} {result.case.name}: {verdict}"), highlight=False)

    guarded(debug, action)


@app.command("list")
def list_scenarios(
    folder: Annotated[Path, typer.Option(help="Folder to list.")] = SCENARIOS,
    debug: DebugOpt = False,
) -> None:
    """List the shipped scenarios, one line each."""
    from sim.scenario.catalog import scenario_entries

    def action() -> None:
        if not folder.is_dir():
            fail(f"{folder}: no such folder. Hint: the shipped scenarios are in scenarios/.")
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("file", no_wrap=True, overflow="fold")  # a name cut short cannot be typed back
        table.add_column("what it asks")
        for entry in scenario_entries(folder):
            table.add_row(safe(entry.file), safe(entry.summary))
        out.print(table)

    guarded(debug, action)


def _with_partial_overrides(document: dict) -> dict:
    """The schema, where a file with `extends:` may give any subset of the fields at any depth (its parent gives
    the rest) and `null` to delete one: such files are checked against a copy of every definition without
    `required` or minimum sizes, each field also accepting null."""

    def nullable(node: object) -> dict:
        return {"anyOf": [lenient(node), {"type": "null"}]}

    def lenient(node: object) -> object:
        if isinstance(node, list):
            return [lenient(value) for value in node]
        if not isinstance(node, dict):
            return node
        result = {}
        for key, value in node.items():
            if key in ("required", "minProperties", "minItems"):
                continue
            if key == "$ref":
                result[key] = value.replace("#/$defs/", "#/$defs/Partial")
            elif key == "properties":
                result[key] = {name: nullable(field) for name, field in value.items()}
            elif key == "additionalProperties" and isinstance(value, dict):
                result[key] = nullable(value)
            else:
                result[key] = lenient(value)
        return result

    definitions = document.pop("$defs", {})
    header = {key: document.pop(key) for key in ("$schema", "title", "description") if key in document}
    return {
        **header,
        "$defs": {**definitions, **{f"Partial{name}": lenient(d) for name, d in definitions.items()}},
        "if": {"required": ["extends"]},
        "then": lenient(document),
        "else": document,
    }


@app.command()
def schema(debug: DebugOpt = False) -> None:
    """Print the scenario format as JSON Schema (for editors and validators)."""
    from sim.scenario.schema import Scenario

    def action() -> None:
        document = Scenario.model_json_schema()
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        document["properties"]["extends"] = {
            "type": "string",
            "description": "Another scenario file this one overrides.",
        }
        sys.stdout.write(json.dumps(_with_partial_overrides(document), indent=2) + "\n")

    guarded(debug, action)


# --- many runs: ensemble, sweep, sensitivity -------------------------------------------------------

WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Local worker processes (with --scheduler local: Dask workers). Default: one per core, at most one "
        "per chunk of runs. The files do not depend on it.",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) to send the runs to, "
        "or 'local' for a Dask LocalCluster of --workers processes. Default: this machine, without Dask.",
        show_default=False,
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Write into a folder that holds other files.")]


def _out_option(default_name: str):
    return Annotated[
        Path | None, typer.Option("--out", "-o", help=f"Output folder. Default: {default_name}.", show_default=False)
    ]


def _workers_for(runs: int, workers: int | None, actors: int = 0) -> int:
    """The --workers given (at most MAX_WORKERS), or one per core; never more than there are chunks of runs
    (a worker without a chunk would only cost memory; the files do not depend on the number)."""
    import math
    import os

    from sim.runs.batch import chunk_size
    from sim.scenario.limits import check_workers

    chunks = math.ceil(runs / chunk_size(runs, actors))
    if workers is not None:
        return max(1, min(check_workers(workers), chunks))
    return max(1, min(os.cpu_count() or 1, chunks))


def _check_counts(runs: int, workers: int | None, what: str = "--runs") -> None:
    """The figures the command line gives, refused (exit 2) before the scenario is read or anything allocated."""
    from sim.scenario.limits import check_runs, check_workers

    check_runs(runs, what)
    check_workers(workers)


def _progress_columns() -> tuple:
    """The progress bar of many runs: "1,000 runs ━━━━ 250/1,000 runs, 0:00:03 elapsed, 0:00:09 left"; each
    time stands before the word that says which it is."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs,"),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )


def _run_many(title: str, runs: int | None, workers: int, scheduler: str | None, write, folder: Path) -> None:
    """Open the executor, show a progress bar of runs, call write(executor, progress) to fill `folder`,
    then print the outcome from the summary it wrote."""
    from rich.progress import Progress

    from sim.runs.distributed import SchedulerError, open_executor

    try:
        opened = open_executor(workers, scheduler)
    except SchedulerError as error:
        fail(str(error), code=1)
    # Off the terminal the bar has nothing to redraw and would leave only an empty line behind.
    bar = Progress(*_progress_columns(), console=err, transient=True, disable=not err.is_terminal)
    with opened as executor, bar as progress:
        task = progress.add_task(title, total=runs)
        try:
            written = write(executor, lambda done: progress.advance(task, done))
        except SchedulerError as error:
            fail(str(error), code=1)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    _report_written(written, summary["outcome"], folder)


@app.command()
def ensemble(
    scenario: ScenarioArg = None,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Number of runs.")] = 1000,
    seed: Annotated[int | None, typer.Option(help="Ensemble seed (default: the scenario's own).", min=0)] = None,
    posterior: Annotated[
        Path | None,
        typer.Option(
            "--posterior",
            help="Draw the uncertain fields from a calibration's posterior.parquet instead of their priors.",
            dir_okay=False,
        ),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out_dir: _out_option("reports/<scenario name>_ensemble") = None,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Monte Carlo over the scenario's uncertain: block: ensemble.parquet and .csv, summary.json, report.html."""
    from sim.outputs import check_output_folder
    from sim.scenario.loader import load_scenario

    path = _resolve_scenario(scenario)

    def action() -> None:
        _check_counts(runs, workers)
        loaded = load_scenario(path)
        folder = out_dir if out_dir is not None else REPORTS / f"{path.stem}_ensemble"
        check_output_folder(folder, force)
        processes = _workers_for(runs, workers, len(loaded.scenario.actors))
        if processes > 1 and not scheduler:
            from sim.runs.distributed import start_local_workers

            start_local_workers()  # the workers' imports overlap with the sampling below
        from sim.api import plan_monte_carlo, write_monte_carlo

        calibrated = None
        if posterior is not None:
            from sim.runs.calibration import PosteriorFileError, read_posterior

            try:
                calibrated = read_posterior(posterior, loaded.scenario)
            except PosteriorFileError as error:
                fail(safe(error))
        plan = plan_monte_carlo(loaded, runs, seed, calibrated)
        for note in plan.notes:
            err.print(f"note: {safe(note)}", highlight=False, soft_wrap=True)
        _run_many(
            f"{runs:,} runs",
            runs,
            processes,
            scheduler,
            lambda executor, progress: write_monte_carlo(plan, folder, executor, force, progress),
            folder,
        )

    guarded(debug, action)


@app.command()
def calibrate(
    scenario: ScenarioArg = None,
    seed: Annotated[int, typer.Option(help="Seed of the whole calibration.", min=0, max=2**32 - 1)] = 2016,
    population: Annotated[
        int, typer.Option(help="Particles per generation (the posterior sample's size).", min=50, max=1_000_000)
    ] = 2000,
    runs: Annotated[
        int,
        typer.Option(
            "--runs", "-n", help="Budget: no new generation once this many runs are simulated.", min=1, max=100_000_000
        ),
    ] = 100_000,
    generations: Annotated[int, typer.Option(help="At most this many generations.", min=1, max=100)] = 20,
    quantile: Annotated[
        float, typer.Option(help="Share of each generation's simulations it keeps.", min=0.05, max=0.95)
    ] = 0.5,
    draws: Annotated[
        int, typer.Option(help="Runs of the posterior (and of the priors) for the predictive bands.", min=100)
    ] = 2000,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out_dir: _out_option("reports/<scenario name>_calibration") = None,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """ABC-SMC of the scenario's uncertain: fields against its observations: posterior.parquet, summary.json,
    report.html (docs/CALIBRATION.md)."""
    from sim.outputs import check_output_folder
    from sim.scenario.loader import load_scenario

    path = _resolve_scenario(scenario)

    def action() -> None:
        from sim.runs.calibration import CalibrationError, Settings, scipy_prior

        loaded = load_scenario(path)
        folder = out_dir if out_dir is not None else REPORTS / f"{path.stem}_calibration"
        check_output_folder(folder, force)
        try:
            if not loaded.scenario.observations:
                raise CalibrationError("the scenario has no observations: section to calibrate against")
            if not loaded.scenario.uncertain:
                raise CalibrationError("the scenario has no uncertain: fields to calibrate")
            for field_path, spec in loaded.scenario.uncertain.items():
                try:
                    scipy_prior(spec)
                except CalibrationError as error:
                    raise CalibrationError(f"uncertain.{field_path}: {error}") from None
        except CalibrationError as error:
            fail(f"{safe(path)}: cannot calibrate: {safe(error)}.")
        from sim.scenario.limits import check_runs

        check_runs(draws, "--draws")  # before the calibration, not after it
        settings = Settings(population=population, quantile=quantile, generations=generations, runs=runs, seed=seed)
        least = settings.least_simulations + 2 * draws
        processes = _workers_for(least, workers, len(loaded.scenario.actors))
        if processes > 1 and not scheduler:
            from sim.runs.distributed import start_local_workers

            start_local_workers()
        from sim.api import write_calibration

        _run_many(
            f"calibration: generations until {settings.least_simulations:,} runs (at most {settings.generations}), "
            f"then {2 * draws:,} predictive runs",
            None,
            processes,
            scheduler,
            lambda executor, progress: write_calibration(loaded, folder, executor, settings, force, progress, draws),
            folder,
        )

    guarded(debug, action)


@app.command()
def sweep(
    scenario: ScenarioArg = None,
    sets: Annotated[
        list[str],
        typer.Option(
            "--set",
            "-s",
            show_default=False,
            help="PATH=START:STOP:N (N evenly spaced values) or PATH=V1,V2,...; "
            "repeat for a grid, e.g. --set actors.us.war_cost=0.005:0.03:6.",
        ),
    ] = [],  # noqa: B006
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Runs (seeds) at each grid point.")] = 50,
    seed: Annotated[int | None, typer.Option(help="Seed of the runs' seeds (default: the scenario's).", min=0)] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out_dir: _out_option("reports/<scenario name>_sweep") = None,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Grid sweep over numeric fields: sweep.parquet and .csv, summary.json, report.html (lines or heatmaps)."""
    from sim.outputs import check_output_folder
    from sim.scenario.loader import load_scenario

    path = _resolve_scenario(scenario)

    def action() -> None:
        from sim.scenario.limits import check_sweep

        _check_counts(runs, workers, "--runs (runs at each grid point)")
        check_sweep(sets, runs)
        loaded = load_scenario(path)
        from sim.api import plan_sweep, write_sweep
        from sim.runs.sweep import SweepError

        try:
            plan = plan_sweep(loaded, sets, runs, seed)
        except SweepError as error:
            fail(str(error))
        folder = out_dir if out_dir is not None else REPORTS / f"{path.stem}_sweep"
        check_output_folder(folder, force)
        total = len(plan.points) * runs
        _run_many(
            f"{len(plan.points):,} points",
            total,
            _workers_for(total, workers, len(loaded.scenario.actors)),
            scheduler,
            lambda executor, progress: write_sweep(plan, folder, executor, force, progress),
            folder,
        )

    guarded(debug, action)


@app.command()
def sensitivity(
    scenario: ScenarioArg = None,
    method: Annotated[
        str,
        typer.Option("--method", "-m", help="sobol (first-order and total indices) or morris (elementary effects)."),
    ] = "sobol",
    samples: Annotated[
        int,
        typer.Option(
            "--samples",
            "-N",
            min=2,
            help="Base samples: Sobol runs N(D+2), Morris "
            "N(D+1), D the number of uncertain fields plus one, the seed (at most 1,000,000 runs). "
            "A power of 2 for Sobol.",
        ),
    ] = 256,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the design and of the runs' seeds (default: the scenario's).", min=0),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out_dir: _out_option("reports/<scenario name>_sensitivity") = None,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Global sensitivity (SALib) of the outcomes to the uncertain: block: sensitivity.parquet and .csv, summary.json,
    report.html (tornado charts and the indices with 95% intervals)."""
    from sim.outputs import check_output_folder
    from sim.scenario.loader import load_scenario

    path = _resolve_scenario(scenario)

    def action() -> None:
        from sim.scenario.limits import check_runs, design_runs

        _check_counts(samples, workers, "--samples")
        loaded = load_scenario(path)
        inputs = len(loaded.scenario.uncertain)
        check_runs(  # before SALib and the model load; the seed is one more input of the design
            design_runs(method.lower(), samples, inputs + 1),
            f"the {method.lower()} design's runs (--samples {samples:,} with {inputs} uncertain inputs and the seed)",
        )
        from sim.api import plan_sensitivity, write_sensitivity
        from sim.runs.sensitivity import SensitivityError

        try:
            plan = plan_sensitivity(loaded, method.lower(), samples, seed)
        except SensitivityError as error:
            fail(str(error))
        folder = out_dir if out_dir is not None else REPORTS / f"{path.stem}_sensitivity"
        check_output_folder(folder, force)
        _run_many(
            f"{method.lower()} design",
            plan.runs,
            _workers_for(plan.runs, workers, len(loaded.scenario.actors)),
            scheduler,
            lambda executor, progress: write_sensitivity(plan, folder, executor, force, progress),
            folder,
        )

    guarded(debug, action)


# --- validation: the DEU III benchmark; scenarios from KTAB and BDM files ---------------------------

DEU_DATA = PROJECT_ROOT / "data" / "deu3" / "deu3.tsv"
benchmark_app = typer.Typer(
    help="Score the model's bargaining against real negotiations it was not written for.", no_args_is_help=True
)
app.add_typer(benchmark_app, name="benchmark")
import_app = typer.Typer(help="Write a scenario from another tool's file of actors.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@benchmark_app.command("deu")
def benchmark_deu(
    out_dir: _out_option("reports/benchmark_deu") = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="The DEU III table (tab-separated). Default: data/deu3/deu3.tsv.", show_default=False
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the split into training and test halves and of the bootstrap (default 13).", min=0),
    ] = None,
    force: ForceOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Score six methods, this model's solver among them, on 353 EU decisions (DEU III); test-half figures."""
    from sim.outputs import check_output_folder

    def action() -> None:
        folder = out_dir if out_dir is not None else REPORTS / "benchmark_deu"
        check_output_folder(folder, force)
        from sim.api import run_deu_benchmark, write_deu_benchmark
        from sim.validation.deu import BenchmarkDataError

        path = data if data is not None else DEU_DATA
        shown = path.relative_to(PROJECT_ROOT).as_posix() if data is None else str(path)
        try:
            with err.status("scoring six methods on DEU III ...", spinner="dots"):
                benchmark = run_deu_benchmark(path, seed, shown_path=shown)
                written = write_deu_benchmark(benchmark, folder, force=force)
        except BenchmarkDataError as error:
            fail(str(error))
        _report_written(written, benchmark.summary["outcome"], folder)

    guarded(debug, action)


def _import_command(kind: str, source: Path, target: Path | None, force: bool, debug: bool) -> None:
    """Import `source` as a scenario (default: beside it, with the suffix .yaml) and say where it went."""
    from sim.api import import_scenario

    def action() -> None:
        destination = target if target is not None else source.with_suffix(".yaml")
        written, imported = import_scenario(kind, source, destination, force=force)
        from sim.scenario.importers import split_taking_part

        taking_part, left_out = split_taking_part(imported)
        dropped = f" ({len(left_out)} left out: power or salience 0)" if left_out else ""
        out.print(
            f"wrote {safe(written)}: {safe(imported.name)}, {len(taking_part)} actors{dropped}, "
            f"{len(imported.dimensions)} issue(s), from {safe(source)} ({safe(imported.kind)})",
            highlight=False,
        )
        out.print(f"next: python cli.py run {safe(written)}", highlight=False)

    guarded(debug, action)


ImportOut = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Scenario file to write. Default: FILE with the suffix .yaml.", show_default=False
    ),
]
ImportForce = Annotated[bool, typer.Option("--force", help="Replace the scenario file if it exists.")]


@import_app.command("ktab")
def import_ktab(
    file: Annotated[Path, typer.Argument(help="KTAB spatial-model file, CSV or XML.", show_default=False)],
    out_file: ImportOut = None,
    force: ImportForce = False,
    debug: DebugOpt = False,
) -> None:
    """Write a scenario (no battlefield, 0-1 scales, each number commented with its origin) from a KTAB file."""
    _import_command("ktab", file, out_file, force, debug)


@import_app.command("bdm")
def import_bdm(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with the header Actor,Capability,Position,Salience or Stakeholder,Resources,Position,Salience.",
            show_default=False,
        ),
    ],
    out_file: ImportOut = None,
    force: ImportForce = False,
    debug: DebugOpt = False,
) -> None:
    """Write a one-issue scenario (no battlefield, 0-1 scales, each number commented) from a BDM-style CSV."""
    _import_command("bdm", file, out_file, force, debug)


if __name__ == "__main__":
    app()
