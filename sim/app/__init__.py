"""The live teaching page: kazsim on Mesa's SolaraViz (visualisation only; the models live elsewhere).

Serve it with ``kazsim demo``, which first fetches Solara's front-end files into its local cache if
they are missing (sim/frontend.py), or with ``solara run sim.app --host 127.0.0.1`` from the repository
root (offline, after ``python -m sim.frontend``). The page shows

* a map of Kazakhstan's grid: region boundaries, civilians shaded by the share of open
  sympathisers in each cell, police units, militant cells, and the incidents of the last days;
* a timeline: simulated monthly attacks and deaths against the observed 2011 series, with the
  dates of the religion law and the policy milestones;
* a guide with three classroom exercises, and a list of observed and simulated incidents.

The sidebar (SolaraViz) holds play/pause/step/reset, the play interval (speed) and the controls the
lever families declare (``sim.levers``). Controls take effect on **Reset**. A control left at its
starting value keeps the scenario file's value; a moved control replaces it. Every value the page sends is validated by
the scenario schema (pydantic) and nothing is evaluated or deserialised: a bad value is shown
on the page as the scenario error and the run goes on with the scenario file's own values.

Scenario ``epstein_2002`` switches to Epstein's (2002) classic civil-violence grid.
"""

from sim.app.controls import model_params, scenario_from_controls
from sim.app.figures import render_png
from sim.app.live import LiveModel
from sim.app.page import GUIDE, Page
from sim.app.views import map_figure, map_png, timeline_figure, timeline_png

__all__ = ["GUIDE", "LiveModel", "Page", "map_figure", "map_png", "model_params", "render_png",
           "scenario_from_controls", "timeline_figure", "timeline_png"]
