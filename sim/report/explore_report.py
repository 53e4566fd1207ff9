"""The exploration report: design and methods, outcome surfaces, the trade-off frontier, and every point as CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.compare import INTERVAL
from sim.explore import Exploration, efficient, summaries
from sim.explore.design import field_label
from sim.outcomes import BY_NAME, OUTCOMES, OUTCOMES_DOC
from sim.provenance import provenance
from sim.report import style
from sim.report.comparison import interval, number
from sim.report.document import Block, FigureBlock, Heading, Paragraph, TableBlock, write_document
from sim.report.explore_figures import frontier_figure, scatter_figure, surface_figure
from sim.report.methods import parameter_sentence
from sim.report.style import looks, report_style

#: The trade-off a report draws unless told otherwise: the uninvolved detained against attacks (Bennett 2008).
DEFAULT_FRONTIER = ("uninvolved_people_detained", "attacks")


def _methods(exploration: Exploration) -> list[str]:
    manifest = exploration.batch.manifest
    record = manifest["exploration"]
    seeds = sorted(set(exploration.batch.runs["seed"].astype(int)))
    per_point = exploration.batch.runs.groupby("scenario").size()
    fields = "; ".join(f"`{f.field}` from {f.low:g} to {f.high:g} in {len(f.levels())} levels"
                       for f in exploration.fields)
    kind = {"grid": "a full grid of every combination",
            "lhs": "a Latin hypercube (each field's levels spread evenly over the points, in blocks of "
                   f"{', '.join(map(str, record.get('blocks', [])))} points)"}[record.get("design", "grid")]
    points = exploration.points["point"].nunique()
    design = (f"We varied {fields}, over {kind}: {points} design points of {_listed(exploration.bases)}, each run "
              f"{int(per_point.min()) if len(per_point) else 0} times (seeds {seeds[0]}-{seeds[-1]}). Replicate i of "
              "every design point uses the same seed and parameter draw (common random numbers), so differences "
              "between points are the settings' doing, not chance's.")
    varied = [f.field for f in exploration.fields if f.field.startswith("parameters.")]
    draws = parameter_sentence(manifest.get("parameters", {}), len(seeds))
    if varied:
        draws += f" Varied parameters ({', '.join(varied)}) keep the design's values."
    estimators = (f"Each point's outcome is the mean over its runs, with a {INTERVAL} percentile-bootstrap interval "
                  "and the 5-95 % range of single runs. A point is on the trade-off frontier when no other point of "
                  f"the same scenario has a lower mean of both outcomes. Outcomes and units: `{OUTCOMES_DOC}`.")
    made = manifest.get("provenance", {})
    origin = (f"Runs made with kazsim {made.get('kazsim_version', '?')} at revision "
              f"`{str(made.get('git_revision', '?'))[:12]}`; report by kazsim {provenance()['kazsim_version']}. "
              f"Folder: `{exploration.root}`. Any run re-runs exactly with `kazsim run --from {exploration.root} "
              "--scenario <point scenario> --seed <seed>` and opens in the teaching page with `kazsim demo --from` "
              "and the same options; the point scenarios are listed in `points.csv`.")
    return [design, draws, estimators, origin]


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names)
    return f"the scenario {shown}" if len(names) == 1 else f"the scenarios {shown}"


def frontier_table(exploration: Exploration, x: str, y: str) -> pd.DataFrame:
    """The frontier's points per base scenario: field values and both outcomes' means with intervals."""
    fields = [f.field for f in exploration.fields]
    table = summaries(exploration.runs, fields, [x, y])
    rows = []
    for _, part in table.groupby("base", sort=False):
        front = part[efficient(part, x, y).to_numpy()].sort_values(x)
        rows.append(front)
    front = pd.concat(rows) if rows else table.iloc[:0]
    shown = pd.DataFrame({"Scenario": front["base"], "Point": front["point"]})
    for field in fields:
        shown[field_label(field)] = front[field].map(lambda v: f"{v:g}")
    for outcome in (x, y):
        shown[f"{BY_NAME[outcome].short} ({BY_NAME[outcome].unit}), mean"] = front[outcome].map(number)
        shown[f"{BY_NAME[outcome].short}, {INTERVAL} interval"] = [
            interval(lo, hi, signed=False) for lo, hi in zip(front[f"{outcome}_low"], front[f"{outcome}_high"],
                                                             strict=True)]
    return shown.reset_index(drop=True)


def exploration_blocks(exploration: Exploration, frontier: tuple[str, str],
                       progress: Callable[[str], None]) -> list[Block]:
    """Every block of the exploration report."""
    x, y = frontier
    styles = looks(exploration.bases)
    headline = [o.name for o in OUTCOMES if o.headline and exploration.runs[o.name].notna().any()]
    blocks: list[Block] = [Heading("Methods"), *(Paragraph(text) for text in _methods(exploration))]
    with report_style():
        blocks.append(Heading("How the outcomes move"))
        if len(exploration.fields) <= 2:
            for base in exploration.bases if len(exploration.fields) == 2 else exploration.bases[:1]:
                progress(f"drawing the outcome surfaces of {base}")
                png, svg = style.export(surface_figure(exploration, headline, base, styles))
                over = "" if len(exploration.fields) == 1 else f" for `{base}`, one line per level of " \
                                                              f"`{exploration.fields[1].field}`"
                single = len(exploration.fields) == 1 and len(exploration.bases) == 1
                spread = " and the 5-95 % range of single runs" if single else ""
                blocks.append(FigureBlock(f"surfaces_{base}" if len(exploration.fields) == 2 else "surfaces",
                                          f"Outcomes over `{exploration.fields[0].field}`{over}: mean of the runs "
                                          f"and its {INTERVAL} interval{spread}.", png, svg))
        else:
            for outcome in dict.fromkeys((y, x)):
                progress(f"drawing {BY_NAME[outcome].short} against each field")
                png, svg = style.export(scatter_figure(exploration, outcome, styles))
                blocks.append(FigureBlock(f"points_{outcome}", f"{BY_NAME[outcome].label}: mean at each design point "
                                          f"against each varied field, with its {INTERVAL} interval.", png, svg))
        progress("drawing the trade-off frontier")
        png, svg = style.export(frontier_figure(exploration, x, y, styles))
        blocks += [Heading("The trade-off"),
                   FigureBlock("frontier", f"{BY_NAME[y].short} against {BY_NAME[x].short.lower()} at every design "
                                           f"point (means with {INTERVAL} intervals), coloured by "
                                           f"`{exploration.fields[0].field}`; the line joins the points no other point "
                                           "beats in both.", png, svg)]
    blocks.append(TableBlock("frontier", frontier_table(exploration, x, y),
                             ["The design points on the frontier, from the fewest "
                              f"{BY_NAME[x].short.lower()} to the most."], text_columns=2))
    fields = [f.field for f in exploration.fields]
    every = summaries(exploration.runs, fields, [o.name for o in OUTCOMES])
    every.insert(0, "scenario", [f"{b[:84]}.p{p}" for b, p in zip(every["base"], every["point"], strict=True)])
    blocks += [Heading("Every design point and run"),
               TableBlock("points", pd.DataFrame(), [f"Every design point's mean and {INTERVAL} interval of every "
                                                     "outcome (columns <outcome>, <outcome>_low, <outcome>_high)."],
                          every),
               TableBlock("runs", pd.DataFrame(), ["Every run's outcomes with its design values."],
                          exploration.runs)]
    return blocks


def write_exploration_report(path: Path | str, exploration: Exploration,
                             frontier: tuple[str, str] = DEFAULT_FRONTIER,
                             progress: Callable[[str], None] | None = None) -> Path:
    """Write the exploration report (HTML or Markdown by suffix), figures and CSV tables beside it.

    Returns:
        The folder holding the figures and tables.
    """
    say = progress or (lambda _: None)
    return write_document(Path(path), "kazsim exploration", exploration_blocks(exploration, frontier, say), say)
