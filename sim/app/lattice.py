"""How the page shows Epstein's model: the torus cell by cell and the counts step by step."""

from __future__ import annotations

from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.app.figures import Painter, new_figure
from sim.app.live import LiveModel
from sim.scenario import Scenario

EPSTEIN_COLOURS = ListedColormap(["#ffffff", "#d62728", "#9ecae1", "#222222", "#1f3fbf"])


class LatticeMap(Painter):
    """Epstein's torus: active, quiet and jailed citizens and cops, cell by cell."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = new_figure()
        fig.subplots_adjust(left=0.02, right=0.8, top=0.92, bottom=0.03)
        ax = self.ax = fig.add_subplot()
        self.image = ax.imshow(model.sim.grid_codes().T, origin="lower", cmap=EPSTEIN_COLOURS, vmin=0, vmax=4,
                               interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        labels = ("empty", "active", "quiet", "jailed", "cop")
        ax.legend(
            handles=[Patch(color=EPSTEIN_COLOURS(i), label=label) for i, label in enumerate(labels) if i],
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
        )
        self.title = ax.set_title("", fontsize=10)
        self._animate([self.image, self.title])

    def update(self, model: LiveModel) -> Figure:
        """Redraw the lattice; returns the figure."""
        self.image.set_data(model.sim.grid_codes().T)
        self.title.set_text(f"Epstein civil violence, step {model.days}")
        return self.fig


class CountsTimeline(Painter):
    """Epstein's counts: active, jailed and quiet citizens, step by step."""

    def __init__(self, model: LiveModel) -> None:
        self.fig = fig = new_figure()
        spec = model.spec
        fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.12)
        ax = self.ax = fig.add_subplot()
        self.lines = {}
        for column, colour in (("active", "#d62728"), ("jailed", "#222222"), ("quiet", "#9ecae1")):
            (self.lines[column],) = ax.plot([], [], color=colour, label=column, linewidth=1.2)
        ax.set_xlim(0, max(spec.period.days, 1))
        ax.set_ylim(0, max(model.sim.n_citizens, 1) * 1.05)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("citizens", fontsize=8)
        ax.set_title("Epstein: active, jailed and quiet citizens", fontsize=10)
        ax.legend(fontsize=8, loc="center right")
        ax.tick_params(labelsize=7)
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
