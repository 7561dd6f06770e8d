"""How long a run's report takes to write and to open, and how big it is.

    python bench/report_bench.py                 # the two shipped 2016 scenarios
    python bench/report_bench.py scenarios/*.yaml --repeats 9

For each scenario: the model is run once; then `run_report` is timed (the first call, which reads
plotly.js from disk, and the median of the repeats), the page's size is measured (all of it, and
what it carries besides plotly.js), and, when Chromium is installed, the page is opened headless and
timed: first paint, load, and every figure drawn. Targets: written in under 1 s, under 5 MB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.browser import Chromium, find_chromium  # noqa: E402
from sim.model.results import run_scenario  # noqa: E402
from sim.reports.page import plotly_js  # noqa: E402
from sim.reports.run import run_report  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402

DEFAULT = [ROOT / "scenarios" / "ceasefire_2016_03.yaml", ROOT / "scenarios" / "stalemate_2016_09.yaml"]
TIMINGS = """(() => {
  const n = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
  return {paint: paint ? paint.startTime : null, load: n.loadEventEnd, draw: window.reportRenderMs,
          drawn: performance.now()};
})()"""


def open_times(browser: Chromium, page_path: Path, repeats: int) -> dict[str, float]:
    """Median milliseconds from navigation to first paint, to the load event, and to every figure drawn."""
    samples = []
    for _ in range(repeats):
        page = browser.open(page_path)
        page.wait_for("document.documentElement.getAttribute('data-rendered')", timeout=60)
        samples.append(page.evaluate(TIMINGS))
        page.close()
    return {key: statistics.median(s[key] for s in samples) for key in ("paint", "load", "draw", "drawn")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenarios", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    plotly_bytes = len(plotly_js().encode("utf-8"))
    chromium = find_chromium()
    browser = Chromium(chromium) if chromium else None
    print(
        "| scenario | write, first call (s) | write, median (s) | size (MB) | besides plotly.js (kB) "
        "| first paint (ms) | load (ms) | all figures drawn (ms) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    try:
        with tempfile.TemporaryDirectory(prefix="negotiation-sim-bench-") as folder:
            for index, path in enumerate(args.scenarios):
                result = run_scenario(load_scenario(path))
                started = time.perf_counter()
                text = run_report(result)
                first = time.perf_counter() - started
                times = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    run_report(result)
                    times.append(time.perf_counter() - started)
                size = len(text.encode("utf-8"))
                page_path = Path(folder) / f"report-{index}.html"
                page_path.write_text(text, encoding="utf-8")
                opened = open_times(browser, page_path, 3) if browser else None
                browser_cells = (
                    f"{opened['paint']:.0f} | {opened['load']:.0f} | {opened['drawn']:.0f}" if opened else "- | - | -"
                )
                print(
                    f"| {path.name} | {first:.2f} | {statistics.median(times):.2f} | {size / 1e6:.2f} "
                    f"| {(size - plotly_bytes) / 1e3:.0f} | {browser_cells} |",
                    flush=True,
                )
    finally:
        if browser:
            browser.close()
    print(f"\nplotly.js itself: {plotly_bytes / 1e6:.2f} MB; Chromium: {browser.version if browser else 'not found'}")


if __name__ == "__main__":
    main()
