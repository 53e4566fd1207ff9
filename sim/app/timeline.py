"""How the page shows the national model over the year: monthly attacks and deaths against the 2011 record,
with the policy milestones, the levers' start dates and every change of policy during the run marked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import IdentityTransform

from sim.app.controls import describe_change
from sim.app.figures import FULL, OBSERVED_GREY, OKABE_ITO, FigureSize, Painter, lanes, new_figure
from sim.app.live import LiveModel
from sim.app.national import observed, observed_monthly, simulated_monthly
from sim.events import DEATH_COLUMNS
from sim.scenario import Scenario

DEATH_COLOURS = {"deaths_security": OKABE_ITO["blue"], "deaths_civilian": OKABE_ITO["purple"],
                 "deaths_militant": OKABE_ITO["black"], "deaths_unknown": OKABE_ITO["yellow"]}
SIMULATED = OKABE_ITO["vermillion"]
LANES, LANE_HEIGHT = 3, 17.0


@dataclass(frozen=True)
class Mark:
    """A date marked on the timeline: a policy milestone, a lever's start or a change of policy."""

    date: dt.date
    label: str
    kind: str  # "milestone", "lever" or "change"


def marks(spec: Scenario) -> list[Mark]:
    """The dates to mark: the record's policy milestones, each enabled lever's start, each dated change (phase)."""
    found = [Mark(row.date.date() if hasattr(row.date, "date") else row.date, row.id, "milestone")
             for row in observed().policy_events.itertuples()]
    for name, settings in spec.levers:
        if settings.enabled and settings.start is not None:
            found.append(Mark(settings.start, name.replace("_", " "), "lever"))
        for phase in getattr(settings, "phases", ()):
            found.append(Mark(phase.start, describe_change(name, phase.changes()), "change"))
    return [m for m in found if spec.period.start <= m.date <= spec.period.end]


STYLE = {"milestone": {"color": "#999999", "linestyle": ":", "linewidth": 1.0},
         "lever": {"color": SIMULATED, "linestyle": "-", "linewidth": 1.6},
         "change": {"color": OKABE_ITO["blue"], "linestyle": "--", "linewidth": 1.6}}
LABEL_COLOUR = {"milestone": "#555555", "lever": SIMULATED, "change": OKABE_ITO["blue"]}


class MonthlyTimeline(Painter):
    """Simulated monthly attacks and deaths against the observed 2011 series, with policy marks above."""

    def __init__(self, model: LiveModel, size: FigureSize = FULL) -> None:
        self.size = size
        self.fig = fig = new_figure(size)
        spec = model.spec
        self.start, self.end = spec.period.start, spec.period.end
        obs = observed_monthly(self.start, self.end)
        n = self.n = len(obs)
        months = np.arange(n)
        right = 0.97 if size.compact else 0.76
        lane_room = (LANES * LANE_HEIGHT + 8) / size.height
        top_edge = 1 - 6 / size.height - lane_room
        bottom_edge = 0.24 if size.compact else 0.07
        middle = bottom_edge + (top_edge - bottom_edge) * 0.5
        left = 0.12 if size.compact else 0.08
        self.top = top = fig.add_axes((left, middle + 0.03, right - left, top_edge - middle - 0.03))
        self.bottom = bottom = fig.add_axes((left, bottom_edge, right - left, middle - bottom_edge - 0.03),
                                            sharex=top)
        self.attacks = top.bar(months - 0.2, np.zeros(n), width=0.4, color=SIMULATED)
        obs_attacks = obs["attacks"].to_numpy()
        top.bar(months + 0.2, obs_attacks, width=0.4, color=OBSERVED_GREY)
        top.set_ylabel("attacks", fontsize=size.small)
        self.deaths = {column: bottom.bar(months - 0.2, np.zeros(n), width=0.4, color=colour)
                       for column, colour in DEATH_COLOURS.items()}
        obs_deaths = obs[list(DEATH_COLUMNS)].sum(axis=1).to_numpy()
        bottom.bar(months + 0.2, obs_deaths, width=0.4, color=OBSERVED_GREY)
        bottom.set_ylabel("deaths", fontsize=size.small)
        month_names = [p.strftime("%b")[: 1 if size.compact else 3] for p in obs.index]
        bottom.set_xticks(months, month_names, fontsize=size.small)
        top.tick_params(labelbottom=False)
        bottom.set_xlim(-0.6, n - 0.4)
        self.obs_max = (max(obs_attacks.max(), 1), max(obs_deaths.max(), 1))
        for ax in (top, bottom):
            ax.tick_params(labelsize=size.small)
            ax.yaxis.get_major_locator().set_params(integer=True)
        seed = observed().seed_incidents
        incident_days = [self.position(row.date.date()) for row in seed.itertuples()
                         if self.start <= row.date.date() <= self.end]
        top.plot(incident_days, [0.93] * len(incident_days), linestyle="none", marker="v", color="black",
                 markersize=6, transform=top.get_xaxis_transform())
        self._legends(size)
        self.mark_artists: list = []
        self.shown_marks: tuple[Mark, ...] = ()
        self.limits = (0.0, 0.0)
        self.series_key: bytes = b""
        self._animate([])

    def _legends(self, size: FigureSize) -> None:
        """Legends beside the panels (below them when compact), never over the bars."""
        observed_patch = Patch(color=OBSERVED_GREY)
        seed_marker = Line2D([], [], linestyle="none", marker="v", color="black", markersize=6)
        deaths = [Patch(color=colour) for colour in DEATH_COLOURS.values()]
        death_labels = [column.removeprefix("deaths_") for column in DEATH_COLOURS]
        if size.compact:
            self.fig.legend([Patch(color=SIMULATED), observed_patch, seed_marker, *deaths],
                            ["simulated attacks", "observed 2011", "observed incident",
                             *(f"{label} deaths" for label in death_labels)],
                            loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=size.small - 1,
                            frameon=False, handlelength=1.2, columnspacing=0.8, handletextpad=0.3)
            return
        self.top.legend([Patch(color=SIMULATED), observed_patch, seed_marker],
                        ["simulated", "observed 2011", "one observed\nincident"], loc="upper left",
                        bbox_to_anchor=(1.01, 1.0), fontsize=size.small, frameon=False, borderaxespad=0)
        self.bottom.legend([*deaths, observed_patch], [*(f"{label}" for label in death_labels), "observed 2011"],
                           loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=size.small, frameon=False,
                           borderaxespad=0, title="simulated deaths", title_fontsize=size.small)

    def position(self, day: dt.date) -> float:
        """x position of a day (months are 0, 1, ...)."""
        month = (day.year - self.start.year) * 12 + day.month - self.start.month
        return month - 0.5 + (day.day - 1) / 31

    def _draw_marks(self, spec: Scenario) -> None:
        """Lines at the marked dates and their labels in lanes above the panels, none overlapping."""
        for artist in self.mark_artists:
            artist.remove()
        self.mark_artists = []
        found = tuple(marks(spec))
        self.shown_marks = found
        self.fig.canvas.draw()  # axes positions in pixels, for the labels
        to_pixels = self.top.transData.transform
        base = self.top.get_window_extent().y1 + 6
        priority = ("change", "lever", "milestone")  # most important first
        by_date: dict[dt.date, list[Mark]] = {}
        for mark in sorted(found, key=lambda m: priority.index(m.kind)):
            by_date.setdefault(mark.date, []).append(mark)
            for ax in (self.top, self.bottom):
                self.mark_artists.append(ax.axvline(self.position(mark.date), **STYLE[mark.kind], zorder=1))
        texts = []
        for day, same_day in sorted(by_date.items(), key=lambda item: priority.index(item[1][0].kind)):
            pixel_x = to_pixels((self.position(day), 0))[0]
            label = " · ".join(mark.label for mark in same_day)  # one label per date: they cannot collide
            text = self.fig.text(pixel_x + 2, base, label, transform=IdentityTransform(),
                                 fontsize=self.size.small - 1, color=LABEL_COLOUR[same_day[0].kind], va="bottom")
            texts.append((pixel_x + 2, text))
        kept = lanes(self.fig, texts, LANE_HEIGHT, LANES)
        for text in kept:
            text.set_y(base + text.get_position()[1])
        self.mark_artists += kept

    def update(self, model: LiveModel) -> Figure:
        """Bring the bars and marks to the current day (redrawn only when they change); returns the figure.

        Today is not drawn in the figure: :meth:`today` places the page's line over it, so the figure changes
        only on days with incidents or policy changes and most frames reuse the last PNG.
        """
        self.unchanged = True
        if tuple(marks(model.spec)) != self.shown_marks:
            self._draw_marks(model.spec)
            self.background = None
            self.unchanged = False
        series = simulated_monthly(model)
        key = np.concatenate([series["attacks"], *(series[c] for c in DEATH_COLOURS)]).tobytes()
        if key != self.series_key:
            self.series_key = key
            self._set_bars(series)
            self.unchanged = False
        return self.fig

    def today(self, model: LiveModel) -> tuple[float, float, float]:
        """Where today's line goes over the figure: its left edge, top and height as fractions of the figure."""
        x = self.position(min(model.date, model.spec.period.end))
        left = self.top.transData.transform((x, 0))[0] / self.size.width
        top = 1 - self.top.get_position().y1
        return left, top, self.top.get_position().y1 - self.bottom.get_position().y0

    def caption(self, model: LiveModel) -> str:
        """Attacks and deaths so far against the 2011 record."""
        series = simulated_monthly(model)
        attacks, deaths = int(series["attacks"].sum()), int(sum(series[c].sum() for c in DEATH_COLOURS))
        return (f"to {model.date:%d %b %Y}: {attacks} attack{'s' if attacks != 1 else ''}, {deaths} "
                f"death{'s' if deaths != 1 else ''} (grey: the 2011 record)")

    def _set_bars(self, series: dict[str, np.ndarray]) -> None:
        for rect, value in zip(self.attacks, series["attacks"][: self.n], strict=True):
            rect.set_height(value)
        base = np.zeros(self.n)
        for column, bars in self.deaths.items():
            values = series[column][: self.n]
            for rect, b, value in zip(bars, base, values, strict=True):
                rect.set_y(b)
                rect.set_height(value)
            base = base + values
        limits = (max(self.obs_max[0], series["attacks"].max()) * 1.15, max(self.obs_max[1], base.max()) * 1.1)
        if limits != self.limits:
            self.limits = limits
            self.top.set_ylim(0, limits[0])
            self.bottom.set_ylim(0, limits[1])
        self.background = None
