"""The comparison report: methods, monthly series, effects figure, and effects tables with units and notes."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.batch import BatchResult
from sim.compare import INTERVAL, MONTHLY, Effect, effects_frame, missing_attribution, monthly_summary
from sim.outcomes import BY_NAME, OUTCOMES_DOC
from sim.report import style
from sim.report.document import Block, FigureBlock, Heading, Paragraph, TableBlock, write_document
from sim.report.figures import effects_figure, headline_outcomes, monthly_figure
from sim.report.methods import methods_paragraphs
from sim.report.style import looks, report_style

#: Parameters shown in an attribution table (the largest shares).
MAX_ATTRIBUTED = 8


def number(value: float | None, signed: bool = False) -> str:
    """A value at a precision that suits its size: ``12.34``, ``123.4``, ``1,234``; ``-`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sign = "+" if signed else ""
    size = abs(value)
    if size >= 1000:
        return f"{value:{sign},.0f}"
    if size >= 100:
        return f"{value:{sign}.0f}"
    if size >= 10:
        return f"{value:{sign}.1f}"
    return f"{value:{sign}.2f}"


def interval(low: float | None, high: float | None, signed: bool = True) -> str:
    """``[low, high]``, with signs for effects (``signed``)."""
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return "-"
    return f"[{number(low, signed)}, {number(high, signed)}]"


def pairs_text(part: pd.DataFrame) -> str:
    """How many pairs a counterfactual's effects rest on, under the posterior and (when reported) the prior."""
    text = f"{int(part['pairs'].max())}"
    prior = part["prior_pairs"].dropna()
    if prior.empty:
        return text
    kept = int(prior.max())
    text += (f" under the posterior, {kept} under the prior (the pairs whose baseline run keeps open support "
             "plausible)")
    if kept < 2:
        text += "; one pair gives no interval under the prior"
    return text


def effects_tables(effects: list[Effect], baseline: str) -> list[Block]:
    """One table per counterfactual, outcomes by plain-language name with units, and notes on blank cells."""
    frame = effects_frame(effects)
    has_prior = frame["prior_effect"].notna().any()
    blocks: list[Block] = []
    for name, part in frame.groupby("scenario", sort=False):
        shown = pd.DataFrame({
            "Outcome": [BY_NAME[o].label for o in part["outcome"]],
            "Unit": part["unit"],
            f"Baseline ({baseline}), mean": part["baseline_mean"].map(number),
            f"Counterfactual ({name}), mean": part["counterfactual_mean"].map(number),
            "Effect, mean": part["effect"].map(lambda v: number(v, True)),
            f"{INTERVAL} interval": [interval(lo, hi) for lo, hi in zip(part["low"], part["high"], strict=True)],
            "Single-year range (5-95 %)": [interval(lo, hi) for lo, hi in
                                           zip(part["spread_low"], part["spread_high"], strict=True)],
            "P(worse)": part["p_worse"].map(lambda p: "-" if p is None or pd.isna(p) else f"{p:.2f}"),
        })
        if has_prior:
            shown["Effect under the prior"] = part["prior_effect"].map(lambda v: number(v, True))
            shown[f"Prior {INTERVAL} interval"] = [interval(lo, hi) for lo, hi in
                                                        zip(part["prior_low"], part["prior_high"], strict=True)]
        notes = [f"Pairs: {pairs_text(part)}. Outcomes and units are defined in `{OUTCOMES_DOC}`."]
        blank = [o for o, p in zip(part["outcome"], part["p_worse"], strict=True) if p is None or pd.isna(p)]
        if blank:
            reasons: dict[str, list[str]] = {}
            for outcome in blank:
                reasons.setdefault(BY_NAME[outcome].no_direction, []).append(BY_NAME[outcome].short)
            notes.append("P(worse) is blank (-) where more is neither better nor worse. " + " ".join(
                f"{', '.join(shorts)}: {reason}." for reason, shorts in reasons.items()))
        blocks += [Heading(f"`{name}` against `{baseline}`", 3),
                   TableBlock(f"effects_{name}", shown.reset_index(drop=True), notes, text_columns=2)]
    return blocks


def attribution_blocks(effects: list[Effect]) -> list[Block]:
    """Per counterfactual, each headline outcome's variance shares by parameter (when the effects carry them)."""
    attributed = [e for e in effects if e.attribution]
    if not attributed:
        why = missing_attribution(effects)
        return [] if why is None else [Heading("Which parameters the effects depend on"), Paragraph(why)]
    blocks: list[Block] = [Heading("Which parameters the effects depend on"),
                           Paragraph("Share of the variance of the single-pair effects each parameter accounts "
                                     f"for (the {MAX_ATTRIBUTED} largest shown).")]
    frame = pd.DataFrame([{"scenario": e.scenario, "outcome": e.outcome, **e.attribution} for e in attributed])
    for name, part in frame.groupby("scenario", sort=False):
        shares = part.drop(columns=["scenario"]).set_index("outcome")
        top = shares.mean().sort_values(ascending=False).index[:MAX_ATTRIBUTED]
        shown = shares[top].map(lambda v: "-" if pd.isna(v) else f"{v:.0%}")
        shown.insert(0, "Outcome", [BY_NAME[o].label if o in BY_NAME else o for o in shown.index])
        blocks += [Heading(f"`{name}`", 3), TableBlock(f"attribution_{name}", shown.reset_index(drop=True),
                                                         csv=part.reset_index(drop=True))]
    return blocks


def comparison_blocks(batch: BatchResult, effects: list[Effect], baseline: str, observed: pd.DataFrame | None,
                      progress: Callable[[str], None]) -> list[Block]:
    """Every block of the comparison report, figures drawn as they come."""
    order = [baseline, *[name for name in batch.scenarios if name != baseline]]
    styles = looks(order)
    blocks: list[Block] = [Heading("Methods"), *(Paragraph(text) for text in methods_paragraphs(batch, baseline,
                                                                                                 effects))]
    headline = ", ".join(BY_NAME[name].short for name in headline_outcomes(effects))
    with report_style():
        progress("drawing the effects figure")
        png, svg = style.export(effects_figure(effects, styles))
        blocks += [Heading("Effects against the baseline"),
                   FigureBlock("effects", f"Effect of each counterfactual on {headline}: mean over paired seeds "
                                          f"with its {INTERVAL} interval (thick) and the 5-95 % range of "
                                          "single-year effects (thin). Right of zero: more than the baseline.",
                               png, svg)]
        blocks += [Heading("Over the year")]
        for column, what in MONTHLY.items():
            progress(f"drawing {what}")
            observed_series = None
            if observed is not None and column in observed:
                observed_series = observed[column].set_axis(observed.index.astype(str))
            unit = "attacks" if column == "attacks" else "people"
            png, svg = style.export(monthly_figure(monthly_summary(batch, column), observed_series,
                                             what.capitalize(), unit, styles))
            blocks.append(FigureBlock(f"{column}_per_month", f"{what.capitalize()} by scenario: mean of the runs, "
                                      f"its {INTERVAL} interval and the 5-95 % range of single runs, with the "
                                      "observed 2011 series and, in each counterfactual's panel, the baseline mean.",
                                      png, svg))
    blocks += [Heading("Effects, every outcome"), *effects_tables(effects, baseline)]
    blocks += attribution_blocks(effects)
    csv = effects_frame(effects)
    csv["attribution"] = csv["attribution"].map(lambda a: "" if not a else "; ".join(f"{k}={v:.4f}"
                                                                                    for k, v in a.items()))
    csv["p_worse_blank_because"] = csv["outcome"].map(lambda o: BY_NAME[o].no_direction if o in BY_NAME else "")
    blocks.append(TableBlock("effects", pd.DataFrame(), ["Every effect, machine-readable (one row per scenario "
                                                          "and outcome, in the outcome's unit; the columns are "
                                                          "those of sim.compare.Effect, with label and unit)."], csv))
    return blocks


def write_comparison_report(path: Path | str, batch: BatchResult, effects: list[Effect], baseline: str,
                            observed: pd.DataFrame | None = None,
                            progress: Callable[[str], None] | None = None) -> Path:
    """Write the comparison report (HTML or Markdown by suffix) with figures (PNG, SVG) and ``effects.csv`` beside it.

    Args:
        path: the report file; ``.html`` or ``.md``.
        batch: the batch compared.
        effects: :func:`sim.compare.compare_outcomes` output (optional prior and attribution fields shown when set).
        baseline: the baseline's name.
        observed: the observed monthly series (:func:`sim.events.monthly_series`), drawn beside the runs.
        progress: called with a description before each stage.

    Returns:
        The folder holding the figures and tables.
    """
    say = progress or (lambda _: None)
    blocks = comparison_blocks(batch, effects, baseline, observed, say)
    return write_document(Path(path), "kazsim comparison", blocks, say)
