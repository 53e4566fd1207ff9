"""Checks of a rendered matplotlib figure: overlapping text, and axes without a label or unit."""

from __future__ import annotations

import itertools
import re

NUMBER = re.compile(r"^[−\-+]?[\d,]*\.?\d+(e[−\-+]?\d+)?$")


def drawn_tick_labels(axis) -> list:
    """The tick labels matplotlib draws: those of ticks inside the view (others keep stale positions)."""
    locations = axis.get_majorticklocs()
    low, high = sorted(axis.get_view_interval())
    margin = (high - low) * 1e-9
    ticks = axis.get_major_ticks(len(locations))
    return [label for location, tick in zip(locations, ticks, strict=True) if low - margin <= location <= high + margin
            for label in (tick.label1, tick.label2) if label.get_visible()]


def text_boxes(figure) -> list[tuple[str, object]]:
    """Every drawn text of a figure with its bounding box in display pixels: titles, labels, ticks, legends."""
    renderer = figure.canvas.get_renderer()
    texts = [*figure.texts]
    for legend in figure.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for axis in figure.axes:
        texts += [axis.title, axis.xaxis.label, axis.yaxis.label, axis.xaxis.get_offset_text(),
                  axis.yaxis.get_offset_text(), *drawn_tick_labels(axis.xaxis), *drawn_tick_labels(axis.yaxis),
                  *axis.texts]
        if axis.get_legend() is not None:
            texts += list(axis.get_legend().get_texts())
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text().strip()]


def overlaps(figure) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap by more than half a pixel each way."""
    figure.canvas.draw()
    found = []
    for (first, a), (second, b) in itertools.combinations(text_boxes(figure), 2):
        width = min(a.x1, b.x1) - max(a.x0, b.x0)
        height = min(a.y1, b.y1) - max(a.y0, b.y0)
        if width > 0.5 and height > 0.5:
            found.append((first, second))
    return found


def unlabelled_axes(figure) -> list[str]:
    """Axes showing tick labels without a label, or with numeric ticks and no unit in parentheses."""
    problems = []
    for index, axis in enumerate(figure.axes):
        for name, ticks, label in (("x", drawn_tick_labels(axis.xaxis), axis.get_xlabel()),
                                   ("y", drawn_tick_labels(axis.yaxis), axis.get_ylabel())):
            shown = [t.get_text() for t in ticks if t.get_visible() and t.get_text().strip()]
            if not shown:
                continue
            if not label.strip():
                problems.append(f"panel {index} ({axis.get_title()!r}): {name} axis has no label")
            elif all(NUMBER.match(text) for text in shown) and not re.search(r"\(.+\)\s*$", label, re.DOTALL):
                problems.append(f"panel {index} ({axis.get_title()!r}): {name} label {label!r} has no unit")
    return problems


def check_every_exported_figure(monkeypatch) -> list[str]:
    """Make ``sim.report.style.export`` check each figure before writing it; returns the titles of those checked."""
    import sim.report.style

    checked: list[str] = []
    real_export = sim.report.style.export

    def checking_export(figure):
        checked.append(" / ".join(axis.get_title() for axis in figure.axes) or figure.get_suptitle())
        found = overlaps(figure)
        assert not found, f"overlapping text in figure {len(checked)} ({checked[-1]}): {found}"
        problems = unlabelled_axes(figure)
        assert not problems, problems
        return real_export(figure)

    monkeypatch.setattr(sim.report.style, "export", checking_export)
    return checked
