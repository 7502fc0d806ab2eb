"""SVG charts for the leaderboard (no plotting library): grouped bars with error bars, line curves and
a confusion-matrix heat map. Each function returns a standalone ``<svg>`` document as a string, which
the HTML report embeds inline and the results folder keeps as ``.svg`` files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

__all__ = ["bar_chart", "heatmap", "line_chart"]

# Colours of the series (models), then the baseline in grey.
SERIES_COLOURS = ("#3b6fb6", "#d9822b", "#3a9e5c", "#b04a8c", "#7e63b8", "#c0443f", "#2a9fa8", "#8a7a2e")
BASELINE_COLOUR = "#9a9a9a"


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    mag = abs(v)
    if mag >= 1000 or mag < 0.01:
        return f"{v:.2e}"
    return f"{v:.3g}" if mag < 10 else f"{v:.1f}"


def _nice_range(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """A padded axis range and about 5 round tick values."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) if lo else 1.0)
    step = 10 ** math.floor(math.log10((hi - lo) / 5))
    for m in (1, 2, 2.5, 5, 10):
        if (hi - lo) / (m * step) <= 6:
            step *= m
            break
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    ticks = [start + i * step for i in range(round((stop - start) / step) + 1)]
    return start, stop, ticks


def _header(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{escape(title)}</text>",
    ]


def _legend(names: Sequence[str], colours: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, (name, colour) in enumerate(zip(names, colours)):
        yy = y + 15 * i
        out.append(f'<rect x="{x:.1f}" y="{yy - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14:.1f}" y="{yy:.1f}">{escape(name)}</text>')
    return out


def bar_chart(
    title: str,
    groups: Sequence[str],
    series: Sequence[str],
    means: Sequence[Sequence[float | None]],
    stds: Sequence[Sequence[float | None]] | None = None,
    *,
    ylabel: str = "",
    colours: Sequence[str] | None = None,
) -> str:
    """Grouped bars: one group per entry of ``groups`` (datasets), one bar per series (models).

    Args:
        means: ``means[g][s]`` for group ``g`` and series ``s``; ``None`` draws no bar.
        stds: error bars (± one standard deviation), same layout; ``None`` entries draw none.
        colours: one colour per series (default: the model colours, the last series grey if named
            ``baseline...``).
    """
    if len(means) != len(groups) or any(len(m) != len(series) for m in means):
        raise ValueError(
            f"means: expected {len(groups)} groups x {len(series)} series, got {[len(m) for m in means]}"
        )
    if colours is None:
        colours = [
            BASELINE_COLOUR if s.startswith("baseline") else SERIES_COLOURS[i % len(SERIES_COLOURS)]
            for i, s in enumerate(series)
        ]
    values = [
        (m or 0.0) + sign * ((stds[g][s] if stds else None) or 0.0)
        for g, row in enumerate(means)
        for s, m in enumerate(row)
        if m is not None and math.isfinite(m)
        for sign in (-1, 1)
    ]
    lo = min([0.0, *values]) if values else 0.0
    hi = max([0.0, *values]) if values else 1.0
    y0, y1, ticks = _nice_range(lo, hi)
    legend_w = 20 + 7 * max((len(s) for s in series), default=0)
    plot_w = max(240, len(groups) * (len(series) * 16 + 24))
    left, top, bottom = 60, 28, 70
    width, height = left + plot_w + legend_w + 20, 300
    ph = height - top - bottom

    def ypos(v: float) -> float:
        return top + ph * (1 - (v - y0) / (y1 - y0))

    out = _header(width, height, title)
    for t in ticks:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{ypos(t):.1f}" y2="{ypos(t):.1f}" stroke="#e3e3e3"/>'
        )
        out.append(f'<text x="{left - 4}" y="{ypos(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    out.append(
        f'<text x="14" y="{top + ph / 2:.1f}" transform="rotate(-90 14 {top + ph / 2:.1f})" '
        f'text-anchor="middle">{escape(ylabel)}</text>'
    )
    gw = plot_w / max(1, len(groups))
    bw = min(22.0, (gw - 12) / max(1, len(series)))
    for g, name in enumerate(groups):
        gx = left + g * gw + (gw - bw * len(series)) / 2
        for s in range(len(series)):
            m = means[g][s]
            if m is None or not math.isfinite(m):
                continue
            x = gx + s * bw
            ya, yb = sorted((ypos(m), ypos(0.0 if y0 <= 0 <= y1 else y0)))
            out.append(
                f'<rect x="{x:.1f}" y="{ya:.1f}" width="{bw - 2:.1f}" height="{max(yb - ya, 0.5):.1f}" '
                f'fill="{colours[s]}"><title>{escape(series[s])} on {escape(name)}: {_fmt(m)}'
                + (f" ± {_fmt(stds[g][s] or 0.0)}" if stds and stds[g][s] is not None else "")
                + "</title></rect>"
            )
            sd = stds[g][s] if stds else None
            if sd is not None and math.isfinite(sd) and sd > 0:
                cx = x + (bw - 2) / 2
                out.append(
                    f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{ypos(m - sd):.1f}" y2="{ypos(m + sd):.1f}" '
                    'stroke="black"/>'
                )
        lx = left + g * gw + gw / 2
        out.append(
            f'<text x="{lx:.1f}" y="{top + ph + 14}" text-anchor="end" '
            f'transform="rotate(-25 {lx:.1f} {top + ph + 14})">{escape(name)}</text>'
        )
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="black"/>')
    out += _legend(series, colours, left + plot_w + 14, top + 12)
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    title: str,
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    xlabel: str = "epoch",
    ylabel: str = "",
) -> str:
    """Lines ``name -> (x, y)`` on common axes (non-finite points are skipped)."""
    pts = [
        (float(x), float(y))
        for xs, ys in curves.values()
        for x, y in zip(xs, ys)
        if math.isfinite(float(x)) and math.isfinite(float(y))
    ]
    x0, x1, xt = _nice_range(min((p[0] for p in pts), default=0.0), max((p[0] for p in pts), default=1.0))
    y0, y1, yt = _nice_range(min((p[1] for p in pts), default=0.0), max((p[1] for p in pts), default=1.0))
    names = list(curves)
    legend_w = 20 + 7 * max((len(n) for n in names), default=0)
    left, top, pw, ph = 60, 28, 360, 200
    width, height = left + pw + legend_w + 20, top + ph + 50
    colours = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(names))]

    def xp(v: float) -> float:
        return left + pw * (v - x0) / (x1 - x0)

    def yp(v: float) -> float:
        return top + ph * (1 - (v - y0) / (y1 - y0))

    out = _header(width, height, title)
    for t in yt:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{yp(t):.1f}" y2="{yp(t):.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 4}" y="{yp(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for t in xt:
        out.append(f'<text x="{xp(t):.1f}" y="{top + ph + 14}" text-anchor="middle">{_fmt(t)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 32}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(
        f'<text x="14" y="{top + ph / 2:.1f}" transform="rotate(-90 14 {top + ph / 2:.1f})" '
        f'text-anchor="middle">{escape(ylabel)}</text>'
    )
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    for name, colour in zip(names, colours):
        xs, ys = curves[name]
        seg = [(xp(float(x)), yp(float(y))) for x, y in zip(xs, ys) if math.isfinite(float(y))]
        if seg:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8">'
                f"<title>{escape(name)}</title></polyline>"
            )
    out += _legend(names, colours, left + pw + 14, top + 12)
    out.append("</svg>")
    return "\n".join(out)


def heatmap(title: str, matrix: np.ndarray, *, row_label: str = "true", col_label: str = "predicted") -> str:
    """A ``(k, k)`` confusion matrix (counts) as a heat map, rows normalised for the colour."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"matrix: expected 2-D, got shape {m.shape}")
    k_r, k_c = m.shape
    cell = max(12, min(36, 400 // max(k_r, k_c, 1)))
    left, top = 50, 40
    width, height = left + cell * k_c + 20, top + cell * k_r + 40
    sums = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)
    out = _header(width, height, title)
    for i in range(k_r):
        for j in range(k_c):
            shade = round(255 * (1 - frac[i, j]))
            fill = f"rgb({shade},{shade},255)"
            x, y = left + j * cell, top + i * cell
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="white">'
                f"<title>{row_label} {i}, {col_label} {j}: {_fmt(m[i, j])}</title></rect>"
            )
            if cell >= 24:
                colour = "white" if frac[i, j] > 0.6 else "black"
                out.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" font-size="9" '
                    f'fill="{colour}">{int(m[i, j]) if float(m[i, j]).is_integer() else _fmt(m[i, j])}</text>'
                )
    out.append(
        f'<text x="{left + cell * k_c / 2}" y="{top - 6}" text-anchor="middle">{escape(col_label)}</text>'
    )
    out.append(
        f'<text x="{left - 10}" y="{top + cell * k_r / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {left - 10} {top + cell * k_r / 2})">{escape(row_label)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)
