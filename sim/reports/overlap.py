"""Lines that lie exactly on another: found, drawn apart and named, so that no line of a figure hides.

A dashed line drawn over a solid one through the same points vanishes, and so does one issue's line under
another's at 0. A figure's line traces carry a description in `meta` (plain words, scenario text made safe
with `esc`); `distinguish_identical` gives each line that lies on an earlier one of the same panel open
circles and "(identical to ...)" in its name, and `identical_note` says which, under the figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go


def same_line(first: Any, second: Any) -> bool:
    """Whether two traces draw the same points (their x and y equal, gaps in the same places)."""
    if first.x is None or second.x is None or first.y is None or second.y is None:
        return False
    if len(first.x) != len(second.x) or len(first.y) != len(second.y) or list(first.x) != list(second.x):
        return False
    y1 = np.array([np.nan if v is None else v for v in first.y], dtype=float)
    y2 = np.array([np.nan if v is None else v for v in second.y], dtype=float)
    gaps = np.isnan(y1)
    return bool(np.array_equal(gaps, np.isnan(y2)) and np.allclose(y1[~gaps], y2[~gaps], rtol=0.0, atol=1e-9))


def identical_pairs(fig: go.Figure) -> list[tuple[Any, Any]]:
    """(line, the latest earlier line of the same panel it lies exactly on) for every such line of `fig` that has
    a description (`meta`: plain words made safe with `esc`). The latest: A's and B's lines of one quantity are
    drawn one after the other, so B's is named after A's counterpart."""
    seen: list[tuple[tuple[str, str], Any]] = []
    pairs = []
    for trace in fig.data:
        if trace.type != "scatter" or "lines" not in (trace.mode or "") or not trace.meta:
            continue
        axes = (trace.xaxis or "x", trace.yaxis or "y")
        twin = next((other for where, other in reversed(seen) if where == axes and same_line(other, trace)), None)
        if twin is not None:
            pairs.append((trace, twin))
        seen.append((axes, trace))
    return pairs


def distinguish_identical(fig: go.Figure) -> go.Figure:
    """Lines drawn exactly over an earlier line of the same panel get open circles on every point (a dashed
    line over a solid one through the same points would vanish) and "(identical to ...)" in their name."""
    for trace, twin in identical_pairs(fig):
        suffix = f" (identical to {twin.meta})"
        trace.mode = "lines+markers"
        trace.marker = dict(symbol="circle-open", size=8, color=trace.line.color, line=dict(width=1.5))
        if not (trace.name or "").endswith(suffix):
            trace.name = f"{trace.name}{suffix}"
    return fig


def identical_note(fig: go.Figure, listed: int = 6) -> str:
    """The lines of `fig` that lie on another, as a paragraph under it (HTML), or ''."""
    notes = [f"{trace.meta} is identical to {twin.meta}" for trace, twin in identical_pairs(fig)]
    if not notes:
        return ""
    more = f"; and {len(notes) - listed} more" if len(notes) > listed else ""
    return (
        '<p class="caption identical">Drawn with open circles, as each lies exactly on another line: '
        f"{'; '.join(notes[:listed])}{more}.</p>"
    )
