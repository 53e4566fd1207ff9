"""The page ``solara run sim.app`` serves: toolbar and sidebar, one world or two side by side, guide and incidents.

Each browser tab renders its own :class:`Page` and so owns its own :class:`~sim.app.session.Session`: its own
runs and play loop. Only the parts of the page that a frame changes are drawn again.
"""

from __future__ import annotations

import os
import threading
from html import escape

import solara
from markdown_it import MarkdownIt
from solara.server import kernel_context

from sim.app.controls import initial_scenario
from sim.app.live import LiveModel
from sim.app.national import observed
from sim.app.session import Frame, Session, Setup
from sim.app.sidebar import Sidebar, Toolbar, use_frame
from sim.app.style import CSS
from sim.events import DEATH_COLUMNS

GUIDE = """
**What you see.** The *map* is Kazakhstan in 2011 cut into cells of 0.75°, with its 16 regions and their
capitals. Purple shading is the share of people in a cell who openly sympathise with or back militancy. Light
blue squares are police patrol units, green diamonds special forces, black triangles militant cells. Stars are
incidents of the last 30 days (vermillion: attacks, blue: police operations; bigger = more deaths). The
*timeline* compares simulated attacks and deaths per month (coloured) with the incidents the 2011 record
documents (grey bars; each ▼ marks one observed incident, listed under *Incidents*). Above it: the policy
milestones P01–P06 (dotted), the levers' start dates (the religion law, solid) and every change of policy you
made during the run (dashed blue).

**How to use it.** **▶ Play** runs the year (pick the *speed* in days per second), **Step** advances one
day. Move a lever at any time: it acts from the next day on and is marked on the timeline. **Reset** starts
the year again with the levers as they are set; the scenario list starts a scenario from its file. Change
the seed to see another possible 2011. *Side by side* runs two worlds with the same seed: world A as the
scenario file says, world B with your changes. *Export this run* saves the run with its policy changes as a
scenario file that `kazsim run` replays exactly. Scenario `epstein_2002` shows Epstein's classic
civil-violence grid (vermillion active, light blue quiet, black jailed, blue cops); it has no levers.

**Exercises.**

1. *Religion law.* Type seed 2, run `baseline_2011` to December and count the attacks before
   and after 25 Oct. Untick *Religion law*, Reset, run again; then tick it, set the date to
   2011-06-01, Reset and run again. Which changes first: the shading or the attacks?
2. *Sweeps or targeted raids.* With the same seed, compare `baseline_2011`, `no_sweeps` and
   `targeted_raids_only`: attacks, deaths, and the shading around places that were swept.
3. *Epstein's outbursts.* Choose `epstein_2002` and play. When do outbursts come, and
   what does the jailed count do after each one?
4. *Live change.* Play `baseline_2011` with seed 3; on 1 July untick *Detention sweeps*. The
   timeline marks the day. What changes in the months after, and what does not?
5. *Side by side.* Choose *Side by side* and play: with nothing changed, A and B stay identical.
   Then untick *Religion law* in world B and play on. When do the lines part, and which first?

Expected observations are in `docs/teaching.md`.
"""


#: The guide as HTML, rendered once (solara.Markdown would also fetch a diagram library from a CDN).
GUIDE_HTML = MarkdownIt().render(GUIDE)


def html_table(rows: list[tuple] | tuple, header: tuple, classes: str = "") -> str:
    """Rows as an HTML table, every cell escaped."""
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@solara.component
def Figure(data: bytes, classes: list[str], caption: str = "", today: tuple[float, float, float] | None = None):
    """A figure of the current frame (PNG) under its caption, with today's line laid over it when given."""
    if caption:
        solara.Text(caption, classes=["kazsim-caption"])
    with solara.Div(classes=["kazsim-figure-box"]):
        solara.Image(data, format="png", width="100%", classes=["kazsim-figure", *classes])
        if today is not None:
            left, top, height = (f"{100 * fraction:.3f}%" for fraction in today)
            solara.Div(classes=["kazsim-today"], style={"left": left, "top": top, "height": height})


def _of_world(frame: Frame, index: int, *parts: str) -> tuple | None:
    """World ``index``'s ``parts`` of ``frame``, or None when the frame has fewer worlds.

    A Reset from two worlds to one sends a frame that a panel of world B still hears before the page drops it.
    """
    return tuple(getattr(frame, part)[index] for part in parts) if index < len(frame.maps) else None


@solara.component
def MapPanel(session: Session, index: int):
    """World ``index``'s map under its caption."""
    shown = use_frame(session, lambda f: _of_world(f, index, "maps", "map_captions"))
    if shown is not None:
        data, caption = shown
        Figure(data, ["kazsim-map-image"], caption)


@solara.component
def TimelinePanel(session: Session, index: int):
    """World ``index``'s timeline under its caption, with today's line."""
    shown = use_frame(session, lambda f: _of_world(f, index, "timelines", "timeline_captions", "today"))
    if shown is not None:
        data, caption, today = shown
        Figure(data, ["kazsim-timeline-image"], caption, today)


@solara.component
def DifferencePanel(session: Session):
    """The two worlds' running totals, B − A, and their table."""
    data, caption, rows = use_frame(session, lambda f: (f.difference, f.difference_caption, f.comparison))
    if data is not None:
        Figure(data, ["kazsim-difference-image"], caption)
        solara.HTML("div", html_table(rows[1:], rows[0], "kazsim-comparison"))


@solara.component
def Stage(session: Session):
    """Maps and timelines of one world, or of two side by side with their running difference.

    Each panel follows its own part of the frames, so a frame redraws only the panels it changes.
    """
    worlds, summary = use_frame(session, lambda f: (len(f.maps), f.summary))
    if worlds == 1:
        MapPanel(session, 0)
        TimelinePanel(session, 0)
    else:
        with solara.Div(classes=["kazsim-worlds"]):
            for index, title in enumerate(("A: as the scenario file", "B: with your changes")):
                with solara.Div(classes=[f"kazsim-world-{'ab'[index]}"]):
                    solara.HTML("h2", title)
                    MapPanel(session, index)
                    TimelinePanel(session, index)
        DifferencePanel(session)
    solara.Text(summary, classes=["kazsim-levers"])


@solara.component
def IncidentList(session: Session):
    """Observed seed incidents and the latest simulated ones, with full place names."""
    incidents = use_frame(session, lambda f: f.incidents)
    rows = [(row.id, f"{row.date:%d %b}", row.kind.replace("_", " "), row.place,
             sum(int(getattr(row, c)) for c in DEATH_COLUMNS)) for row in observed().seed_incidents.itertuples()]
    parts = ["<h3>Observed 2011 incidents (seed articles)</h3>",
             html_table(rows, ("id", "date", "kind", "place", "deaths"), "kazsim-observed")]
    if incidents:
        latest = [(f"{e.date:%d %b}", e.kind.replace("_", " "), e.place, e.region, e.deaths) for e in incidents]
        parts += ["<h3>Latest simulated incidents</h3>",
                  html_table(latest, ("date", "kind", "place", "region", "deaths"), "kazsim-simulated")]
    solara.HTML("div", "".join(parts))


@solara.component
def Notes(session: Session):
    """The guide and the incident lists."""
    with solara.Div(classes=["kazsim-notes"]):
        with solara.Card("Guide", classes=["kazsim-guide"]):
            solara.HTML("div", GUIDE_HTML)
        with solara.Card("Incidents", classes=["kazsim-incidents"]):
            IncidentList(session)


@solara.component
def Page():
    """The page of one browser tab: its own session, started when the tab connects and closed with it."""
    session = solara.use_memo(lambda: Session(Setup(scenario=initial_scenario())), [])

    def start():
        if kernel_context.has_current_context():
            context = kernel_context.get_current_context()
            session.context = context
            context.on_close(lambda: session.close(wait=0))  # the tab is gone: do not hold up its kernel
        session.start()
        return session.close

    solara.use_effect(start, [])
    solara.Style(CSS)
    with solara.Div(classes=["kazsim-app"]):
        Sidebar(session)
        with solara.Div(classes=["kazsim-main"]):
            Toolbar(session)
            Stage(session)
            Notes(session)


def warm_up() -> None:
    """Compile the models' kernels (numba; seconds on a fresh machine) before the first visitor steps a day."""
    for scenario in (initial_scenario(), "epstein_2002"):
        LiveModel(scenario).step()


if os.environ.get("KAZSIM_DEMO_WARM_UP") == "1":  # set by ``kazsim demo`` for its server only
    threading.Thread(target=warm_up, name="kazsim-warm-up", daemon=True).start()


@solara.component
def Layout(children: list | None = None):
    """The page without Solara's default app bar: the page lays itself out."""
    return solara.Column(children=children or [], style={"padding": "0"})
