"""The live teaching page: kazsim in the browser with Solara (visualisation only; the models live elsewhere).

Serve it with ``kazsim demo``, which first fetches Solara's front-end files into its local cache if
they are missing (sim/frontend.py), or with ``solara run sim.app --host 127.0.0.1`` from the repository
root (offline, after ``python -m sim.frontend``). The page shows

* a map of Kazakhstan's grid: regions and their capitals, people shaded by the share of open sympathisers
  in each cell, police units, militant cells, and the incidents of the last days;
* a timeline: simulated monthly attacks and deaths against the observed 2011 series, with the policy
  milestones, the levers' start dates and every policy change made during the run;
* side by side, two worlds with the same seed (world B with the teacher's changes) and their difference;
* a guide with classroom exercises, and a list of observed and simulated incidents.

Each browser tab has its own session (``sim.app.session``): its runs, and a play loop that simulates at the
chosen number of days per second and shows at most ten frames a second, drawn in turn with the other tabs'
(``sim.app.pump``). Lever controls come from the lever
registry (``sim.levers``); moving one changes the run from the next day on, recorded as a dated phase of the
scenario, which *Export* writes as a scenario file that replays the run exactly. Every value the page sends
is validated by the scenario schema (pydantic); nothing is evaluated or deserialised: a bad value is shown
on the page and the run goes on.

Scenario ``epstein_2002`` switches to Epstein's (2002) classic civil-violence grid.
"""

from sim.app.controls import model_params, scenario_from_controls
from sim.app.figures import render_png
from sim.app.live import LiveModel
from sim.app.page import GUIDE, Layout, Page
from sim.app.session import Session, Setup
from sim.app.views import map_figure, map_png, timeline_figure, timeline_png

__all__ = ["GUIDE", "Layout", "LiveModel", "Page", "Session", "Setup", "map_figure", "map_png", "model_params",
           "render_png", "scenario_from_controls", "timeline_figure", "timeline_png"]
