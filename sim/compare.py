"""Comparing counterfactual scenarios with a baseline over paired replicates.

For every seed the batch ran both scenarios with the same random streams, so each outcome's
effect is measured as a paired difference per seed. Reported per outcome: the mean effect with
a 90 % bootstrap interval (resampling seeds, i.e. pairs), the 5–95 % range of the per-seed
effects (what a single year could look like), and the probability that the counterfactual is
worse (the share of seeds with a higher value; ties count half).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch import BatchError, BatchResult, load_batch
from sim.events import ATTACK_KINDS, DEATH_COLUMNS, monthly_series

#: Outcomes per run, and whether a higher value is worse (None: no direction).
OUTCOMES: dict[str, bool | None] = {
    "attacks": True,
    **{f"attacks_{k}": True for k in ATTACK_KINDS},
    "state_operations": None,
    "raids": None,
    "sweeps": None,
    **{c: True for c in DEATH_COLUMNS if c != "deaths_unknown"},
    "deaths_total": True,
    "arrests": None,
    "detained_uninvolved": True,
    "radicalised_nov_dec": True,
    "cells_at_end": True,
    "members_at_end": True,
}
CONFIDENCE = 0.90
#: Report formats by file suffix.
REPORT_FORMATS: dict[str, str] = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


def outcomes_per_run(batch: BatchResult) -> pd.DataFrame:
    """One row per (scenario, seed) with every outcome in ``OUTCOMES``."""
    runs = batch.runs.set_index(["scenario", "seed"])
    events = batch.events
    out = pd.DataFrame(index=runs.index)
    if len(events):
        grouped = events.groupby(["scenario", "seed"])
        kinds = events.pivot_table(index=["scenario", "seed"], columns="kind", values="id", aggfunc="count")
        for kind in (*ATTACK_KINDS, "raid", "sweep", "arrests"):
            out[f"n_{kind}"] = kinds.get(kind, 0)
        sums = grouped[[*DEATH_COLUMNS, "arrests"]].sum()
        out = out.join(sums)
    out = out.fillna(0)
    for column in (*DEATH_COLUMNS, "arrests", *(f"n_{k}" for k in (*ATTACK_KINDS, "raid", "sweep", "arrests"))):
        if column not in out:
            out[column] = 0
    result = pd.DataFrame(index=out.index)
    result["attacks"] = out[[f"n_{k}" for k in ATTACK_KINDS]].sum(axis=1)
    for kind in ATTACK_KINDS:
        result[f"attacks_{kind}"] = out[f"n_{kind}"]
    result["state_operations"] = out[["n_raid", "n_sweep", "n_arrests"]].sum(axis=1)
    result["raids"] = out["n_raid"]
    result["sweeps"] = out["n_sweep"]
    for column in DEATH_COLUMNS:
        if column != "deaths_unknown":
            result[column] = out[column]
    result["deaths_total"] = out[list(DEATH_COLUMNS)].sum(axis=1)
    result["arrests"] = out["arrests"]

    daily = batch.daily.assign(date=pd.to_datetime(batch.daily["date"]))
    grouped = daily.groupby(["scenario", "seed"])
    result["detained_uninvolved"] = grouped["detained_uninvolved"].sum()
    late = daily[daily["date"].dt.month >= 11]
    radical = (late["sympathisers"] + late["recruits"]).groupby([late["scenario"], late["seed"]]).mean()
    result["radicalised_nov_dec"] = radical.reindex(result.index)
    last = grouped.tail(1).set_index(["scenario", "seed"])
    result["cells_at_end"] = last["cells"]
    result["members_at_end"] = last["members"]
    return result.astype(float).sort_index()


@dataclass(frozen=True)
class Effect:
    """One outcome's paired effect of a counterfactual against the baseline."""

    scenario: str
    outcome: str
    baseline_mean: float
    counterfactual_mean: float
    effect: float
    low: float
    high: float
    spread_low: float
    spread_high: float
    p_worse: float | None
    pairs: int


def paired_effect(differences: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean paired difference and its 90 % percentile-bootstrap interval (seeds resampled)."""
    mean = float(np.mean(differences))
    if len(differences) < 2 or np.all(differences == differences[0]):
        return mean, mean, mean
    boot = stats.bootstrap(
        (differences,), np.mean, confidence_level=CONFIDENCE, n_resamples=2000, method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return mean, float(boot.confidence_interval.low), float(boot.confidence_interval.high)


def compare_outcomes(table: pd.DataFrame, baseline: str, paired: bool = True) -> list[Effect]:
    """Effects of every other scenario in ``table`` against ``baseline``.

    Args:
        table: :func:`outcomes_per_run` output.
        baseline: the reference scenario.
        paired: pair runs by seed (common random numbers). With ``False`` the k-th run of each
            scenario is paired with the k-th of the baseline after giving the counterfactual's
            runs in reverse seed order: independent draws, for showing what pairing buys.
    """
    scenarios = list(dict.fromkeys(table.index.get_level_values("scenario")))
    if baseline not in scenarios:
        raise BatchError(f"baseline {baseline!r} is not in the batch; scenarios are {scenarios}")
    base = table.xs(baseline, level="scenario")
    effects = []
    for name in scenarios:
        if name == baseline:
            continue
        other = table.xs(name, level="scenario")
        seeds = base.index.intersection(other.index)
        if len(seeds) == 0:
            continue
        left = base.loc[seeds]
        right = other.loc[seeds] if paired else other.loc[seeds[::-1]].set_axis(seeds)
        for outcome, worse_if_higher in OUTCOMES.items():
            diff = (right[outcome] - left[outcome]).to_numpy()
            mean, low, high = paired_effect(diff)
            p_worse = None
            if worse_if_higher is not None:
                p_worse = float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))
            effects.append(
                Effect(name, outcome, float(left[outcome].mean()), float(right[outcome].mean()), mean, low, high,
                       float(np.quantile(diff, 0.05)), float(np.quantile(diff, 0.95)), p_worse, len(seeds))
            )
    return effects


def effects_frame(effects: list[Effect]) -> pd.DataFrame:
    """Effects as a table."""
    return pd.DataFrame([e.__dict__ for e in effects])


def monthly_bands(batch: BatchResult, column: str = "attacks") -> pd.DataFrame:
    """Per scenario and month: median and 5/95 % quantiles across runs of a monthly series."""
    frames = []
    start = dt.date.fromisoformat(str(batch.daily["date"].min())[:10])
    end = dt.date.fromisoformat(str(batch.daily["date"].max())[:10])
    for (scenario, seed), events in batch.events.groupby(["scenario", "seed"]) if len(batch.events) else []:
        series = monthly_series(events, start, end)[column]
        frames.append(pd.DataFrame({"scenario": scenario, "seed": seed, "month": series.index.astype(str),
                                    "value": series.to_numpy()}))
    runs = batch.runs
    months = [str(m) for m in pd.period_range(start, end, freq="M")]
    full = pd.MultiIndex.from_product([runs["scenario"].unique(), months], names=["scenario", "month"])
    values = pd.concat(frames) if frames else pd.DataFrame(columns=["scenario", "seed", "month", "value"])
    # Runs without events in a month count zero.
    grid = runs.merge(pd.DataFrame({"month": months}), how="cross").merge(values, how="left",
                                                                       on=["scenario", "seed", "month"])
    grid["value"] = grid["value"].fillna(0)
    bands = grid.groupby(["scenario", "month"])["value"].quantile([0.05, 0.5, 0.95]).unstack()
    bands.columns = ["low", "median", "high"]
    return bands.reindex(full).reset_index()


def _figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def band_plot(batch: BatchResult, observed: pd.DataFrame, column: str) -> bytes:
    """Monthly median and 5–95 % bands per scenario against the observed 2011 series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bands = monthly_bands(batch, column)
    figure, axis = plt.subplots(figsize=(8, 3.6))
    for scenario, group in bands.groupby("scenario", sort=False):
        x = np.arange(len(group))
        line = axis.plot(x, group["median"], label=f"{scenario} (median, 5-95 %)")[0]
        axis.fill_between(x, group["low"], group["high"], alpha=0.2, color=line.get_color())
    axis.plot(np.arange(len(observed)), observed[column].to_numpy(), "ko-", label="observed 2011 (seed incidents)")
    axis.set_xticks(np.arange(len(observed)), [m[-2:] for m in observed.index.astype(str)])
    axis.set_xlabel("month of 2011")
    axis.set_ylabel(column.replace("_", " ") + " per month")
    axis.legend(fontsize=7, loc="upper left")
    return _figure_png(figure)


def forest_plot(effects: list[Effect]) -> bytes:
    """Mean paired effects with 90 % intervals, one panel per outcome shown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["attacks", "deaths_total", "deaths_security", "radicalised_nov_dec", "detained_uninvolved", "cells_at_end"]
    frame = effects_frame(effects)
    frame = frame[frame["outcome"].isin(shown)]
    figure, axes = plt.subplots(1, len(shown), figsize=(2.6 * len(shown), 0.45 * frame["scenario"].nunique() + 1.4),
                                sharey=True)
    for axis, outcome in zip(np.atleast_1d(axes), shown, strict=True):
        part = frame[frame["outcome"] == outcome]
        y = np.arange(len(part))
        axis.errorbar(part["effect"], y, xerr=[part["effect"] - part["low"], part["high"] - part["effect"]], fmt="o")
        axis.axvline(0, color="grey", lw=0.8)
        axis.set_title(outcome.replace("_", " "), fontsize=8)
        axis.set_yticks(y, part["scenario"], fontsize=7)
        axis.tick_params(axis="x", labelsize=7)
    figure.suptitle("Effect against the baseline (mean paired difference, 90 % interval)", fontsize=9)
    return _figure_png(figure)


def write_report(path: Path, batch: BatchResult, effects: list[Effect], baseline: str, observed: pd.DataFrame) -> None:
    """A self-contained HTML report (plots embedded), or Markdown with PNGs beside it."""
    from sim.provenance import atomic_write_text

    path = Path(path)
    if path.suffix.lower() not in REPORT_FORMATS:
        raise BatchError(f"{path}: the suffix picks the report's format; expected one of {', '.join(REPORT_FORMATS)}")
    images = {
        "attacks per month": band_plot(batch, observed, "attacks"),
        "deaths per month": band_plot(batch, observed, "deaths_total"),
        "effects": forest_plot(effects),
    }
    frame = effects_frame(effects)
    table = frame.assign(
        effect=frame["effect"].round(2),
        interval=frame.apply(lambda r: f"[{r['low']:.2f}, {r['high']:.2f}]", axis=1),
        per_seed_5_95=frame.apply(lambda r: f"[{r['spread_low']:.2f}, {r['spread_high']:.2f}]", axis=1),
        p_worse=frame["p_worse"].map(lambda p: "" if p is None or pd.isna(p) else f"{p:.2f}"),
        baseline_mean=frame["baseline_mean"].round(2),
        counterfactual_mean=frame["counterfactual_mean"].round(2),
    )[["scenario", "outcome", "baseline_mean", "counterfactual_mean", "effect", "interval", "per_seed_5_95", "p_worse",
       "pairs"]]
    provenance = batch.manifest.get("provenance", {})
    intro = (
        f"Batch `{batch.root}`: scenarios {', '.join(batch.scenarios)}; baseline `{baseline}`; "
        f"{batch.runs.groupby('scenario').size().min()} paired seeds (common random numbers, first seed "
        f"{batch.manifest['base_seed']}). Effects are counterfactual minus baseline per seed; the interval is a "
        f"90 % percentile bootstrap over seeds for the mean effect; per-seed 5-95 % is the spread of single-year "
        f"effects; p_worse is the share of seeds where the counterfactual is higher (ties half). kazsim "
        f"{provenance.get('kazsim_version', '?')}, revision {provenance.get('git_revision', '?')}."
    )
    if REPORT_FORMATS[path.suffix.lower()] == "markdown":
        folder = path.with_suffix("")
        folder = folder.parent / f"{folder.name}_files"
        folder.mkdir(parents=True, exist_ok=True)
        parts = [f"# kazsim comparison\n\n{intro}\n"]
        for title, png in images.items():
            name = title.replace(" ", "_") + ".png"
            (folder / name).write_bytes(png)
            parts.append(f"## {title.capitalize()}\n\n![{title}]({folder.name}/{name})\n")
        parts.append("## Effects\n\n" + table.to_html(index=False, border=0) + "\n")
        atomic_write_text(path, "\n".join(parts))
        return
    figures = "".join(
        f"<h2>{title.capitalize()}</h2><img alt='{title}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        for title, png in images.items()
    )
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>kazsim comparison</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}img{max-width:100%}</style>"
        f"</head><body><h1>kazsim comparison</h1><p>{intro}</p>{figures}<h2>Effects</h2>"
        f"{table.to_html(index=False, border=0)}</body></html>"
    )
    atomic_write_text(path, html)


def compare_batch(root: Path | str, baseline: str | None = None) -> tuple[BatchResult, list[Effect], str]:
    """Load a batch folder and compare every scenario with the baseline (default: the first)."""
    batch = load_batch(root)
    if batch.runs.empty:
        raise BatchError(f"{Path(root) / 'runs'}: no completed runs in this batch folder")
    baseline = baseline or batch.scenarios[0]
    return batch, compare_outcomes(outcomes_per_run(batch), baseline), baseline
