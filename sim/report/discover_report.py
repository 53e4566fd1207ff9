"""The discovery report: the condition, the peeling trajectory, the chosen box and which dimensions it restricts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.discover import Discovery
from sim.explore.design import field_label
from sim.outcomes import OUTCOMES_DOC
from sim.report import style
from sim.report.document import Block, FigureBlock, Heading, Paragraph, TableBlock, write_document
from sim.report.style import PALETTE, REFERENCE_COLOUR, new_figure, report_style, wrap

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SHARE = "share, 0-1"
#: Quasi-p below which a restriction is called significant.
SIGNIFICANT = 0.05


def trajectory_figure(discovery: Discovery, min_density: float) -> Figure:
    """Coverage against density of every box on the peeling trajectory, coloured by restricted dimensions."""
    import matplotlib as mpl

    trajectory, chosen = discovery.box.trajectory, discovery.box.chosen
    figure, (axis,) = new_figure(1, 1, 3.8)
    dims = trajectory["res_dim"].to_numpy(dtype=int)
    bounds = np.arange(dims.min() - 0.5, dims.max() + 1.5)
    norm = mpl.colors.BoundaryNorm(bounds, mpl.colormaps["viridis"].N)
    points = axis.scatter(trajectory["coverage"], trajectory["density"], c=dims, cmap="viridis", norm=norm, s=18,
                          edgecolors="black", linewidths=0.3, zorder=2, label="boxes on the peeling trajectory")
    axis.plot(trajectory["coverage"], trajectory["density"], color=REFERENCE_COLOUR, linewidth=0.6, zorder=1)
    axis.scatter([trajectory.loc[chosen, "coverage"]], [trajectory.loc[chosen, "density"]], marker="*", s=160,
                 facecolors="none", edgecolors=PALETTE[1], linewidths=1.4, zorder=3, label="the chosen box")
    axis.axhline(min_density, color=PALETTE[1], linestyle=(0, (3, 2)), linewidth=0.8,
                 label=f"density sought ({min_density:g})")
    axis.set_xlabel(f"Coverage: cases of interest inside the box ({SHARE})")
    axis.set_ylabel(wrap(f"Density: share of the box's cases of interest ({SHARE})", 34))
    axis.set_xlim(-0.02, 1.02)
    axis.set_ylim(0, 1.05)
    colourbar = figure.colorbar(points, ax=axis, ticks=np.arange(dims.min(), dims.max() + 1))
    colourbar.set_label("Restricted dimensions (count)")
    figure.legend(loc="outside lower center", ncols=3, frameon=False)
    return figure


def box_figure(discovery: Discovery) -> Figure:
    """Each dimension's explored range (grey) and the box's range within it (coloured where it restricts)."""
    limits = discovery.box.limits.loc[discovery.dimensions]
    figure, (axis,) = new_figure(1, 1, 0.9 + 0.32 * len(limits))
    span = (limits["full_high"] - limits["full_low"]).replace(0, 1)
    low = (limits["low"] - limits["full_low"]) / span
    high = (limits["high"] - limits["full_low"]) / span
    y = np.arange(len(limits))[::-1]
    axis.barh(y, np.ones(len(limits)), left=0, color="#dddddd", height=0.6, label="explored range")
    colours = [PALETTE[0] if r else "#aaaaaa" for r in limits["restricts"]]
    axis.barh(y, high - low, left=low, color=colours, height=0.34, label="the box (blue where it restricts)")
    axis.set_yticks(y, [wrap(field_label(name), 40) for name in limits.index])
    axis.set_xlim(0, 1)
    axis.set_xlabel(f"Position within the explored range ({SHARE}: lowest to highest value)")
    axis.set_ylabel("Dimension")
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def limits_table(discovery: Discovery) -> pd.DataFrame:
    """The box's limits beside the explored ranges, restricting dimensions first."""
    limits = discovery.box.limits.loc[discovery.dimensions]
    limits = limits.sort_values(["restricts", "quasi_p"], ascending=[False, True])
    return pd.DataFrame({
        "Dimension": [field_label(name) for name in limits.index],
        "Restricts": ["yes" if r else "no" for r in limits["restricts"]],
        "Box": [f"{lo:.4g} to {hi:.4g}" for lo, hi in zip(limits["low"], limits["high"], strict=True)],
        "Explored": [f"{lo:.4g} to {hi:.4g}" for lo, hi in zip(limits["full_low"], limits["full_high"], strict=True)],
        "Quasi-p": ["-" if pd.isna(p) else f"{p:.2g}" for p in limits["quasi_p"]],
    })


#: Most unrestricted dimensions the summary names one by one; beyond it, it counts them (the table lists them all).
LISTED_UNRESTRICTED = 6


def summary_sentences(discovery: Discovery, min_density: float, source: str) -> list[str]:
    """The finding in words: how often the condition holds, the box's statistics, what restricts and what not."""
    cases, stats = discovery.cases, discovery.box.stats
    holds = int(cases["holds"].sum())
    found = (f"The condition `{discovery.condition}` holds in {holds} of {len(cases)} cases "
             f"({holds / len(cases):.0%}) of `{source}`.")
    if discovery.dropped:
        found += f" {discovery.dropped} cases without a value for the condition's outcomes are left out."
    chosen = (f"The chosen box holds {int(stats['n'])} cases ({stats['mass']:.0%} of all), {int(stats['k'])} of them "
              f"of interest: coverage {stats['coverage']:.2f}, density {stats['density']:.2f}.")
    if stats["density"] < min_density:
        chosen += (f" No box on the trajectory reaches the density sought ({min_density:g}): this is the densest, "
                   "and the condition is not confined to a box of these dimensions.")
    restricting, others = discovery.box.restricting, [d for d in discovery.dimensions
                                                       if d not in discovery.box.restricting]
    limits = discovery.box.limits
    restricts = ("It restricts " + "; ".join(
        f"`{name}` to {limits.loc[name, 'low']:.4g}-{limits.loc[name, 'high']:.4g} (of "
        f"{limits.loc[name, 'full_low']:.4g}-{limits.loc[name, 'full_high']:.4g}; quasi-p "
        f"{limits.loc[name, 'quasi_p']:.2g})" for name in restricting) + "." if restricting
                 else "It restricts no dimension.")
    weak = [name for name in restricting if not limits.loc[name, "quasi_p"] < SIGNIFICANT]
    if weak:
        restricts += (" The restriction of " + ", ".join(f"`{name}`" for name in weak) + f" is not significant "
                      f"(quasi-p at or above {SIGNIFICANT:g}): chance alone could give it.")
    if len(others) > LISTED_UNRESTRICTED:
        restricts += (f" It leaves the other {len(others)} dimensions unrestricted (the table lists them): narrowing "
                      "them would not make the box denser.")
    elif others:
        restricts += " It leaves " + ", ".join(f"`{name}`" for name in others) + " unrestricted: narrowing them " \
                     "would not make the box denser."
    return [found, chosen, restricts]


def discovery_blocks(discovery: Discovery, min_density: float, source: str,
                     progress: Callable[[str], None]) -> list[Block]:
    """Every block of the discovery report."""
    blocks: list[Block] = [Heading("Finding"), *(Paragraph(s) for s in summary_sentences(discovery, min_density,
                                                                                          source))]
    with report_style():
        progress("drawing the peeling trajectory")
        png, svg = style.export(trajectory_figure(discovery, min_density))
        blocks += [FigureBlock("peeling_trajectory", "Peeling trajectory: each box PRIM considered, from the whole "
                                                     "space (coverage 1) to ever smaller, denser boxes; the star "
                                                     "marks the box chosen.", png, svg)]
        progress("drawing the box")
        png, svg = style.export(box_figure(discovery))
        blocks += [Heading("The box"),
                   FigureBlock("box", "The chosen box within the explored range of every dimension.", png, svg),
                   TableBlock("box", limits_table(discovery), ["Quasi-p: Bryant and Lempert's (2010) one-sided "
                                                                "binomial test that the restriction raises the share "
                                                                "of cases of interest; small is significant."],
                              discovery.box.limits.reset_index(names="dimension"), text_columns=2)]
    blocks += [Heading("Method"),
               Paragraph("PRIM (Friedman and Fisher 1999) as implemented by the EMA Workbench (Kwakkel 2017), with "
                         "its lenient objective, peeling and pasting: the box kept is the one of highest coverage "
                         f"whose density reaches {min_density:g}. A case is one run, or with a baseline one pair of "
                         "runs at the same seed and design point; dimensions are the lever settings and parameters "
                         f"that vary across cases. Outcome names: `{OUTCOMES_DOC}`."),
               TableBlock("trajectory", pd.DataFrame(),
                          ["The peeling trajectory (coverage, density, mass, restricted dimensions, cases and cases "
                           "of interest per box)."], discovery.box.trajectory),
               TableBlock("cases", pd.DataFrame(), ["Every case with its dimensions, outcomes and whether the "
                                                    "condition holds and it lies in the box."],
                          discovery.cases.assign(in_box=discovery.inside))]
    return blocks


def write_discovery_report(path: Path | str, discovery: Discovery, min_density: float, source: str,
                           progress: Callable[[str], None] | None = None) -> Path:
    """Write the discovery report (HTML or Markdown by suffix) with its figures and tables beside it."""
    say = progress or (lambda _: None)
    return write_document(Path(path), f"kazsim discovery: {discovery.condition}",
                          discovery_blocks(discovery, min_density, source, say), say)
