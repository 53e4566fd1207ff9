"""How the page shows Epstein's model: the torus cell by cell and the counts step by step."""

from __future__ import annotations

from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.app.figures import FULL, OKABE_ITO, FigureSize, Painter, new_figure
from sim.app.live import LiveModel
from sim.scenario import Scenario

EPSTEIN_COLOURS = ListedColormap(["#ffffff", OKABE_ITO["vermillion"], OKABE_ITO["sky_blue"], "#222222",
                                  OKABE_ITO["blue"]])


class LatticeMap(Painter):
    """Epstein's torus: active, quiet and jailed citizens and cops, cell by cell."""

    def __init__(self, model: LiveModel, size: FigureSize = FULL) -> None:
        self.size = size
        self.fig = fig = new_figure(size)
        fig.subplots_adjust(left=0.02, right=0.75, top=0.97, bottom=0.03)
        ax = self.ax = fig.add_subplot()
        self.image = ax.imshow(model.sim.grid_codes().T, origin="lower", cmap=EPSTEIN_COLOURS, vmin=0, vmax=4,
                               interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        labels = ("empty", "active", "quiet", "jailed", "cop")
        ax.legend(
            handles=[Patch(color=EPSTEIN_COLOURS(i), label=label) for i, label in enumerate(labels) if i],
            loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=size.text, frameon=False,
        )
        self._animate([self.image])

    def update(self, model: LiveModel) -> Figure:
        """Redraw the lattice; returns the figure."""
        self.image.set_data(model.sim.grid_codes().T)
        return self.fig

    def caption(self, model: LiveModel) -> str:
        """The step and the counts of the lattice."""
        return f"Epstein civil violence · step {model.days}"


class CountsTimeline(Painter):
    """Epstein's counts: active, jailed and quiet citizens, step by step."""

    def __init__(self, model: LiveModel, size: FigureSize = FULL) -> None:
        self.size = size
        self.fig = fig = new_figure(size)
        spec = model.spec
        fig.subplots_adjust(left=0.1, right=0.8, top=0.9, bottom=0.13)
        ax = self.ax = fig.add_subplot()
        self.lines = {}
        for column, colour in (("active", OKABE_ITO["vermillion"]), ("jailed", "#222222"),
                               ("quiet", OKABE_ITO["sky_blue"])):
            (self.lines[column],) = ax.plot([], [], color=colour, label=column, linewidth=2)
        ax.set_xlim(0, max(spec.period.days, 1))
        ax.set_ylim(0, max(model.sim.n_citizens, 1) * 1.05)
        ax.set_xlabel("step", fontsize=size.small)
        ax.set_ylabel("citizens", fontsize=size.small)
        ax.set_title("active, jailed and quiet citizens", fontsize=size.title)
        ax.legend(fontsize=size.text, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        ax.tick_params(labelsize=size.small)
        self._animate(list(self.lines.values()))

    def update(self, model: LiveModel) -> Figure:
        """Redraw the counts up to the current step; returns the figure."""
        frame = model.sim.daily_frame()
        for column, line in self.lines.items():
            line.set_data(frame["step"].to_numpy(), frame[column].to_numpy())
        return self.fig


def epstein_summary(spec: Scenario) -> str:
    """One line naming the settings of an Epstein run."""
    e = spec.epstein
    return f"Run: {spec.name}, seed {spec.seed}; legitimacy {e.legitimacy}, cop density {e.cop_density}"
