"""Render a report in headless Chromium and save the top of the page as a PNG.

    python scripts/screenshot.py                     # the default scenario -> docs/report-screenshot.png
    python scripts/screenshot.py scenarios/stalemate_2016_09.yaml --out /tmp/september.png --height 2400
    python scripts/screenshot.py --report reports/syria_2016_calibration/report.html --out docs/x.png
    python scripts/screenshot.py --every-kind        # one small report of each kind -> docs/screenshots/

The README's screenshots are made this way, so they always show what the code writes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.browser import Chromium, find_chromium  # noqa: E402
from sim.api import write_run_outputs  # noqa: E402
from sim.model.results import run_scenario  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402

MARCH = "scenarios/ceasefire_2016_03.yaml"
# One small report of each kind, as a user would make it: (picture name, the CLI's arguments before --out).
EVERY_KIND = [
    ("ensemble", ["ensemble", MARCH, "--runs", "2000"]),
    ("compare", ["compare", MARCH, "scenarios/ceasefire_2016_03_no_withdrawal.yaml"]),
    ("sweep", ["sweep", MARCH, "--set", "actors.us.war_cost=0.005:0.03:6", "--set", "battlefield.kappa=0.1,0.2,0.3"]),
    ("sensitivity", ["sensitivity", MARCH, "--method", "morris", "--samples", "20"]),
    ("calibration", ["calibrate", "scenarios/syria_2016.yaml", "--runs", "20000"]),
    ("benchmark", ["benchmark", "deu"]),
]


def report_screenshot(report: Path, out: Path, width: int = 1280, height: int = 1900) -> Path:
    """Open an existing report at `width` pixels and save the top `height` pixels to `out`."""
    with Chromium() as browser:
        page = browser.open(report, width=width, height=900)
        state = page.wait_for("document.documentElement.getAttribute('data-rendered')", timeout=120)
        if state == "error" or page.errors:
            raise SystemExit(f"the report did not render cleanly: {page.errors}")
        png = page.screenshot(clip_height=height)
    return _save(png, out)


def screenshot(scenario: Path, out: Path, width: int = 1280, height: int = 1900) -> Path:
    """Run `scenario`, open its report at `width` pixels and save the top `height` pixels to `out`."""
    with tempfile.TemporaryDirectory(prefix="negotiation-sim-shot-") as folder:
        result = run_scenario(load_scenario(scenario))
        write_run_outputs(result, Path(folder) / "run")
        return report_screenshot(Path(folder) / "run" / "report.html", out, width, height)


def every_kind(folder: Path, width: int = 1280, height: int = 1900) -> list[Path]:
    """Make one report of each many-run kind with the CLI and save its top as folder/<kind>.png."""
    written = []
    with tempfile.TemporaryDirectory(prefix="negotiation-sim-shots-") as scratch:
        for name, arguments in EVERY_KIND:
            out_dir = Path(scratch) / name
            subprocess.run([sys.executable, "cli.py", *arguments, "--out", str(out_dir)], cwd=ROOT, check=True)
            written.append(report_screenshot(out_dir / "report.html", folder / f"{name}.png", width, height))
    return written


def _save(png: bytes, out: Path) -> Path:
    from PIL import Image

    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_suffix(".raw.png")
    raw.write_bytes(png)
    try:
        # A palette of 256 colours keeps the committed picture small; the report's colours are few.
        Image.open(raw).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(out, optimize=True)
    finally:
        raw.unlink(missing_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "ceasefire_2016_03.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1900, help="pixels of the page's top to keep")
    parser.add_argument("--report", type=Path, default=None, help="an existing report.html to shoot instead")
    parser.add_argument("--every-kind", action="store_true", help="one report of each kind -> docs/screenshots/")
    args = parser.parse_args()
    if find_chromium() is None:
        raise SystemExit("error: no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")
    if args.every_kind:
        paths = every_kind(ROOT / "docs" / "screenshots", args.width, args.height)
    elif args.report is not None:
        paths = [report_screenshot(args.report, args.out, args.width, args.height)]
    else:
        paths = [screenshot(args.scenario, args.out, args.width, args.height)]
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
