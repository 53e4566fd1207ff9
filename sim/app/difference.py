"""The side-by-side view's running difference: world A and world B (same seed, one lever changed) day by day.

With common random numbers both worlds draw the same chance events until a policy differs, so every gap
between their lines is the policy's doing: before the change the lines lie on top of each other.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.app.figures import FULL, OKABE_ITO, FigureSize, Painter, encode_png, new_figure
from sim.app.live import LiveModel
from sim.app.timeline import STYLE, marks
from sim.record import COLUMN

DEATHS = ("deaths_security", "deaths_civilian", "deaths_militant", "deaths_unknown")
#: The panels: title, short name, and the key of the running value (:func:`running_values`).
PANELS = (("attacks so far", "attacks", "attacks"), ("deaths so far", "deaths", "deaths"),
          ("open sympathisers, 1000s", "sympathisers (1000s)", "sympathisers"))
WORLD_A, WORLD_B = "#444444", OKABE_ITO["vermillion"]


def running_values(model: LiveModel) -> dict[str, np.ndarray]:
    """Day by day: attacks and deaths so far, and people openly sympathising (thousands)."""
    rows = model.sim.world.daily.values[: model.days]
    deaths = rows[:, [COLUMN[c] for c in DEATHS]].sum(axis=1)
    return {"attacks": np.cumsum(rows[:, COLUMN["attacks"]]), "deaths": np.cumsum(deaths),
            "sympathisers": rows[:, COLUMN["sympathisers"]] / 1000.0}


def difference_line(a: LiveModel, b: LiveModel) -> dict[str, float]:
    """Today's B − A of each panel's value (0 before the first day)."""
    first, second = running_values(a), running_values(b)
    return {key: float(second[key][-1] - first[key][-1]) if len(first[key]) else 0.0 for *_, key in PANELS}


def month_ticks(start: dt.date, days: int) -> tuple[list[int], list[str]]:
    """Day numbers of every third month's first day within ``days`` days of ``start``, and their names."""
    ticks, labels = [], []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day.day == 1 and (day.month - 1) % 3 == 0:
            ticks.append(offset)
            labels.append(f"{day:%b}")
    return ticks, labels


class DifferenceChart(Painter):
    """World A and world B over the run, panel by panel, with B − A in each panel's title."""

    def __init__(self, a: LiveModel, b: LiveModel, size: FigureSize = FULL) -> None:
        self.size = size
        self.fig = fig = new_figure(size)
        self.days = a.spec.period.days
        fig.subplots_adjust(left=0.07, right=0.98, top=0.8, bottom=0.1, wspace=0.32)
        self.axes = fig.subplots(1, len(PANELS))
        self.lines: dict[str, tuple[Line2D, Line2D]] = {}
        self.titles = {}
        for ax, (title, _, key) in zip(self.axes, PANELS, strict=True):
            line_a, = ax.plot([], [], color=WORLD_A, linewidth=3.0, label="A: as the scenario")
            line_b, = ax.plot([], [], color=WORLD_B, linewidth=1.8, linestyle="--", label="B: with your changes")
            self.lines[key] = (line_a, line_b)
            ax.set_xlim(0, self.days)
            ax.set_ylim(0, 1)
            ax.set_xticks(*month_ticks(a.spec.period.start, self.days))
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.tick_params(labelsize=size.small)
            self.titles[key] = ax.set_title(title, fontsize=size.text)
        fig.legend(*self.axes[0].get_legend_handles_labels(), loc="upper left", bbox_to_anchor=(0.01, 1.0), ncol=2,
                   fontsize=size.text, frameon=False)
        self.tops = {key: 1.0 for *_, key in PANELS}
        self.mark_lines: list = []
        self.shown_marks: tuple = ()
        self._animate([line for pair in self.lines.values() for line in pair])

    def update_pair(self, a: LiveModel, b: LiveModel) -> Figure:
        """Bring both worlds' lines to the current day; returns the figure."""
        first, second = running_values(a), running_values(b)
        days = np.arange(1, len(first["attacks"]) + 1)
        for key, (line_a, line_b) in self.lines.items():
            line_a.set_data(days, first[key])
            line_b.set_data(days[: len(second[key])], second[key])
            top = max(first[key].max(initial=0), second[key].max(initial=0))
            if top > self.tops[key] * 0.95:  # rescale by doubling, so the background is redrawn seldom
                while top > self.tops[key] * 0.95:
                    self.tops[key] *= 2
                self.background = None
        for ax, (*_, key) in zip(self.axes, PANELS, strict=True):
            ax.set_ylim(0, self.tops[key])
        found = tuple(m for m in marks(b.spec) if m.kind == "change")
        if found != self.shown_marks:
            for line in self.mark_lines:
                line.remove()
            self.mark_lines = [ax.axvline((m.date - b.spec.period.start).days, **STYLE["change"])
                               for ax in self.axes for m in found]
            self.shown_marks = found
            self.background = None
        return self.fig

    def caption_pair(self, a: LiveModel, b: LiveModel) -> str:
        """B − A today, panel by panel."""
        gap = difference_line(a, b)
        return "B − A today: " + " · ".join(f"{short} {gap[key]:+,.0f}" for _, short, key in PANELS)

    def png_pair(self, a: LiveModel, b: LiveModel) -> bytes:
        """The current day as PNG bytes."""
        self.update_pair(a, b)
        return encode_png(self.pixels())


#: The side-by-side table: heading and how a world's figure so far is read from its daily table.
TABLE = (("attacks", lambda rows: rows[:, COLUMN["attacks"]].sum()),
         ("deaths", lambda rows: rows[:, [COLUMN[c] for c in DEATHS]].sum()),
         ("uninvolved detained", lambda rows: rows[:, COLUMN["detained_uninvolved"]].sum()),
         ("open sympathisers", lambda rows: rows[-1, COLUMN["sympathisers"]] if len(rows) else 0.0),
         ("militant cells", lambda rows: rows[-1, COLUMN["cells"]] if len(rows) else 0.0))


def comparison_rows(a: LiveModel, b: LiveModel) -> tuple[tuple[str, ...], ...]:
    """The side-by-side table: a heading row, then world A, world B and B − A so far."""
    first, second = (world.sim.world.daily.values[: world.days] for world in (a, b))
    values = [(float(read(first)), float(read(second))) for _, read in TABLE]
    return (("", *(name for name, _ in TABLE)),
            ("A: as the scenario", *(f"{x:,.0f}" for x, _ in values)),
            ("B: with your changes", *(f"{y:,.0f}" for _, y in values)),
            ("B − A", *(f"{y - x:+,.0f}" for x, y in values)))
