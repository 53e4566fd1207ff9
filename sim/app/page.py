"""The page ``solara run sim.app`` serves: SolaraViz's sidebar and controls, the map, timeline, guide and incidents."""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app.controls import initial_scenario, model_params
from sim.app.live import LiveModel
from sim.app.national import observed
from sim.app.views import map_png, timeline_png, view_of
from sim.events import DEATH_COLUMNS


def _image(png_fn, model: LiveModel, classes: list[str]):
    key = (id(model.sim), model.days)
    data = solara.use_memo(lambda: png_fn(model), [key])
    return solara.Image(data, format="png", width="100%", classes=classes)


def MapView(model: LiveModel):
    """The map, with the input error (if any) above it; redrawn by :func:`Dashboard` after each step."""
    with solara.Column(classes=["kazsim-map"]) as column:
        if model.input_error:
            solara.Error(f"Input rejected: {model.input_error}", classes=["kazsim-input-error"])
        _image(map_png, model, ["kazsim-map-image"])
    return column


def TimelineView(model: LiveModel):
    """The timeline, the day counter and the levers of the run."""
    with solara.Column(classes=["kazsim-timeline"]) as column:
        _image(timeline_png, model, ["kazsim-timeline-image"])
        solara.Text(f"Day {model.days} of {model.spec.period.days}", classes=["kazsim-day"])
        solara.Text(view_of(model).summary(model.spec), classes=["kazsim-levers"])
    return column


GUIDE = """
**What you see.** The *map* is Kazakhstan in 2011 cut into cells of {deg}°; grey lines are the
16 regions. Red shading is the share of people in a cell who openly sympathise with or back
militancy. Blue squares are police patrol units, teal diamonds special forces, black triangles
militant cells. Stars are incidents of the last days (orange: attacks, green: police operations;
bigger = more deaths). The *timeline* compares simulated attacks and deaths per month (coloured)
with the incidents the 2011 record documents (grey bars; each ▼ marks one observed
incident, listed under *Incidents*). The red vertical line is the religion law in this run; dotted lines are
the policy milestones P01–P06 (Senate vote, signature, threat video, law in force, court ban,
Zhanaozen).

**How to use it.** Pick a scenario and move levers in the sidebar, then press **Reset** to start
a new run with them; **Step** advances one day, **▶** plays. *Play interval* sets the speed,
*render interval* how many days pass between redraws. A control left where it started keeps the
scenario file's value. The model is stochastic: change the seed to see another possible 2011.
Scenario `epstein_2002` shows Epstein's classic civil-violence grid (red active, light blue
quiet, black jailed, blue cops); the lever controls do not apply there.

**Exercises.**

1. *Religion law.* Type seed 1, run `baseline_2011` to December and count the attacks before
   and after 25 Oct. Untick *Religion law*, Reset, run again; then tick it, set the date to
   2011-06-01 and run again. Which changes first: the red shading or the attacks?
2. *Sweeps or targeted raids.* With the same seed, compare `baseline_2011`, `no_sweeps` and
   `targeted_raids_only`: attacks, deaths, and the red shading around places that were swept.
3. *Epstein's outbursts.* Choose `epstein_2002`, Reset and play. When do outbursts come, and
   what does the jailed count do after each one?

Expected observations are in `docs/teaching.md`.
"""


def GuidePanel(model: LiveModel):
    """Plain-words guide and classroom exercises."""
    return solara.Markdown(GUIDE.format(deg=model.spec.scale.cell_degrees))


def IncidentList(model: LiveModel):
    """Observed seed incidents and, for models that have incidents, the latest simulated ones."""
    seed = observed().seed_incidents
    lines = ["**Observed 2011 incidents (seed articles)**", "", "| id | date | kind | place | deaths |",
             "|---|---|---|---|---|"]
    for row in seed.itertuples():
        deaths = sum(int(getattr(row, c)) for c in DEATH_COLUMNS)
        lines.append(f"| {row.id} | {row.date:%d %b} | {row.kind} | {str(row.place)[:48]} | {deaths} |")
    if view_of(model).incidents:
        lines += ["", "**Latest simulated incidents**", "", "| date | kind | place | deaths |", "|---|---|---|---|"]
        for event in model.sim.events.events[-8:][::-1]:
            lines.append(f"| {event.date:%d %b} | {event.kind} | {event.place} | {event.deaths} |")
    return solara.Markdown("\n".join(lines))


@solara.component
def Dashboard(model: LiveModel):
    """The main area: map and timeline side by side, then the guide and the incident lists.

    SolaraViz's own main area (``ComponentsView``) uses ``GridDraggable``, whose front-end
    (vue-grid-layout, Vue 2) does not render with the Vue 3 front-end that ipyvue 3 brings; so the
    page passes no components to SolaraViz and lays out its own, refreshed by the same counter.
    """
    update_counter.get()
    with solara.Column(style={"padding": "8px"}):
        with solara.Columns([1, 1]):
            MapView(model)
            TimelineView(model)
        with solara.Columns([1, 1]):
            with solara.Card("Guide", classes=["kazsim-guide"]):
                GuidePanel(model)
            with solara.Card("Incidents", classes=["kazsim-incidents"]):
                IncidentList(model)


@solara.component
def Page():
    """The page: SolaraViz's sidebar and controls, and the dashboard."""
    name = initial_scenario()
    initial = solara.use_memo(lambda: LiveModel(scenario_name=name), [])
    model = solara.use_reactive(initial)
    SolaraViz(
        model,
        components=[],
        model_params=model_params(name),
        name="kazsim: militancy and policing in Kazakhstan, 2011",
        play_interval=150,
    )
    Dashboard(model.value)
