"""Render a scenario's report in headless Chromium and save the top of the page as a PNG.

    python scripts/screenshot.py                     # the default scenario -> docs/report-screenshot.png
    python scripts/screenshot.py scenarios/stalemate_2016_09.yaml --out /tmp/september.png --height 2400

The README's screenshot is made this way, so it always shows what the code writes.
"""

from __future__ import annotations

import argparse
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


def screenshot(scenario: Path, out: Path, width: int = 1280, height: int = 1900) -> Path:
    """Run `scenario`, open its report at `width` pixels and save the top `height` pixels to `out`."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="negotiation-sim-shot-") as folder:
        result = run_scenario(load_scenario(scenario))
        write_run_outputs(result, Path(folder) / "run")
        with Chromium() as browser:
            page = browser.open(Path(folder) / "run" / "report.html", width=width, height=900)
            state = page.wait_for("document.documentElement.getAttribute('data-rendered')", timeout=60)
            if state == "error" or page.errors:
                raise SystemExit(f"the report did not render cleanly: {page.errors}")
            png = page.screenshot(clip_height=height)
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
    args = parser.parse_args()
    if find_chromium() is None:
        raise SystemExit("error: no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")
    path = screenshot(args.scenario, args.out, args.width, args.height)
    print(f"wrote {path} ({path.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
