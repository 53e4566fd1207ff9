"""Comparing counterfactual scenarios with a baseline over paired replicates.

For every seed the batch ran both scenarios with the same random streams, so each outcome's
effect is measured as a paired difference per seed. Reported per outcome: the mean effect with
a 90 % bootstrap interval (resampling seeds, i.e. pairs), the 5–95 % range of the per-seed
effects (what a single year could look like), and the probability that the counterfactual is
worse (the share of seeds with a higher value; ties count half). The outcomes and their units
are defined in :mod:`sim.outcomes`; reports are written by :mod:`sim.report`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.attribution import MIN_PAIRS, pair_attribution
from sim.batch import BatchError, BatchResult, load_batch
from sim.events import ATTACK_KINDS, DEATH_COLUMNS
from sim.outcomes import BY_NAME, OUTCOMES, outcomes_per_run
from sim.posterior import plausible_support

__all__ = ["CONFIDENCE", "INTERVAL", "Effect", "compare_batch", "compare_outcomes", "effects_frame", "explain",
           "mean_intervals", "missing_attribution", "monthly_runs", "monthly_summary", "outcomes_per_run",
           "paired_effect", "prior_effects", "prior_folder"]

CONFIDENCE = 0.90
#: The interval's level as reports write it.
INTERVAL = f"{CONFIDENCE * 100:.0f} %"
#: Monthly series the reports draw, from the events of each run.
MONTHLY = {"attacks": "attacks per month", "deaths_total": "deaths per month"}


@dataclass(frozen=True)
class Effect:
    """One outcome's paired effect of a counterfactual against the baseline, in the outcome's unit.

    The last four fields are optional: effects under the calibration's prior (the same
    comparison with parameters drawn from the prior instead of the posterior) and the share of
    the effect's variance each parameter accounts for. A report shows them when they are set.
    """

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
    prior_effect: float | None = None
    prior_low: float | None = None
    prior_high: float | None = None
    prior_pairs: int | None = None
    attribution: dict[str, float] | None = None


def paired_effect(differences: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean paired difference and its 90 % percentile-bootstrap interval (seeds resampled).

    One pair gives no interval (not a number): it would otherwise read as an effect known exactly.
    """
    mean = float(np.mean(differences))
    if len(differences) < 2:
        return mean, math.nan, math.nan
    if np.all(differences == differences[0]):
        return mean, mean, mean
    boot = stats.bootstrap(
        (differences,), np.mean, confidence_level=CONFIDENCE, n_resamples=2000, method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return mean, float(boot.confidence_interval.low), float(boot.confidence_interval.high)


def mean_intervals(groups: pd.core.groupby.SeriesGroupBy, seed: int = 0) -> pd.DataFrame:
    """Per group: the mean and its 90 % percentile-bootstrap interval (values resampled within the group).

    Unlike a normal-theory interval, it stays within the values' range: a count's interval never goes below zero.
    Each group is resampled from the same stream after sorting its values, so groups with the same values (design
    points that ran identically) get the same interval, whatever the order of groups and runs.
    """
    rows = {}
    for key, values in groups:
        rng = np.random.default_rng(seed)
        data = np.sort(values.dropna().to_numpy(dtype=float))
        if len(data) < 2 or np.all(data == data[0]):
            mean = float(data.mean()) if len(data) else float("nan")
            rows[key] = (mean, mean, mean)
            continue
        means = data[rng.integers(0, len(data), size=(2000, len(data)))].mean(axis=1)
        low, high = np.quantile(means, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
        rows[key] = (float(data.mean()), float(low), float(high))
    index = pd.MultiIndex.from_tuples(list(rows), names=groups.keys) if rows and isinstance(next(iter(rows)), tuple) \
        else pd.Index(list(rows), name=groups.keys)
    return pd.DataFrame(list(rows.values()), index=index, columns=["mean", "mean_low", "mean_high"])


def compare_outcomes(table: pd.DataFrame, baseline: str, paired: bool = True) -> list[Effect]:
    """Effects of every other scenario in ``table`` against ``baseline``.

    An outcome no pair measures (e.g. November-December sympathy in runs that end in April)
    gives no effect.

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
        for outcome in OUTCOMES:
            if outcome.name not in table:
                continue
            measured = left[outcome.name].notna().to_numpy() & right[outcome.name].notna().to_numpy()
            if not measured.any():
                continue
            before, after = left[outcome.name].to_numpy()[measured], right[outcome.name].to_numpy()[measured]
            diff = after - before
            mean, low, high = paired_effect(diff)
            p_worse = None
            if outcome.worse_if_higher is not None:
                worse = diff > 0 if outcome.worse_if_higher else diff < 0
                p_worse = float(np.mean(worse) + 0.5 * np.mean(diff == 0))
            effects.append(
                Effect(name, outcome.name, float(before.mean()), float(after.mean()), mean, low, high,
                       float(np.quantile(diff, 0.05)), float(np.quantile(diff, 0.95)), p_worse, int(measured.sum()))
            )
    return effects


def effects_frame(effects: list[Effect]) -> pd.DataFrame:
    """Effects as a table, with each outcome's label and unit."""
    frame = pd.DataFrame([asdict(e) for e in effects], columns=list(Effect.__dataclass_fields__))
    frame.insert(2, "label", frame["outcome"].map(lambda name: BY_NAME[name].label if name in BY_NAME else name))
    frame.insert(3, "unit", frame["outcome"].map(lambda name: BY_NAME[name].unit if name in BY_NAME else ""))
    return frame


def monthly_runs(batch: BatchResult, column: str = "attacks") -> pd.DataFrame:
    """Per run and calendar month of the period: a monthly count from the run's events (zero when none).

    ``column`` is ``attacks`` (events of the attack kinds) or ``deaths_total`` (all death columns).

    Returns:
        Columns ``scenario, seed, month`` (``YYYY-MM``) and ``value``.
    """
    dates = pd.to_datetime(batch.daily["date"])
    start, end = dt.date.fromisoformat(str(dates.min())[:10]), dt.date.fromisoformat(str(dates.max())[:10])
    months = [str(m) for m in pd.period_range(start, end, freq="M")]
    events = batch.events
    if len(events):
        events = events[(events["date"] >= pd.Timestamp(start)) & (events["date"] <= pd.Timestamp(end))]
        if column == "attacks":
            values = events["kind"].isin(ATTACK_KINDS).astype("int64")
        else:
            values = events[list(DEATH_COLUMNS)].sum(axis=1)
        month = events["date"].dt.to_period("M").astype(str)
        sums = values.groupby([events["scenario"], events["seed"], month]).sum()
    else:
        sums = pd.Series(dtype="int64")
    full = pd.MultiIndex.from_tuples(
        [(name, seed, m) for name, seed in zip(batch.runs["scenario"], batch.runs["seed"], strict=True)
         for m in months], names=["scenario", "seed", "month"])
    return sums.reindex(full, fill_value=0).rename("value").reset_index()


def monthly_summary(batch: BatchResult, column: str = "attacks") -> pd.DataFrame:
    """Per scenario and month: the mean over runs, its 90 % interval, and the 5-95 % range of single runs.

    The mean's interval is a percentile bootstrap over runs (runs are independent replicates); counts of
    rare events are mostly zero in a month, so the mean, not the median, shows a scenario's level.

    Returns:
        Columns ``scenario, month, mean, mean_low, mean_high, runs_low, runs_high, runs``, scenarios
        in manifest order.
    """
    values = monthly_runs(batch, column)
    grouped = values.groupby(["scenario", "month"], sort=False)["value"]
    out = mean_intervals(grouped)
    out["count"] = grouped.count()
    quantiles = grouped.quantile([0.05, 0.95]).unstack()
    out["runs_low"], out["runs_high"] = quantiles[0.05], quantiles[0.95]
    out = out.reset_index()
    order = {name: i for i, name in enumerate(batch.scenarios)}
    out = out.sort_values(["scenario", "month"], key=lambda s: s.map(order) if s.name == "scenario" else s)
    return out.rename(columns={"count": "runs"})[["scenario", "month", "mean", "mean_low", "mean_high", "runs_low",
                                                  "runs_high", "runs"]].reset_index(drop=True)


def plausible_seeds(batch: BatchResult, scenario: str) -> set[int]:
    """Seeds whose run of ``scenario`` keeps open support plausible at mid-period and at the end (the prior's
    constraint, ``sim.posterior.plausible_support``)."""
    daily = batch.daily[batch.daily["scenario"] == scenario]
    keep = set()
    for seed, run in daily.groupby("seed"):
        rows = run.reset_index(drop=True)
        if all(plausible_support(rows.iloc[i]) for i in (len(rows) // 2, len(rows) - 1)):
            keep.add(int(seed))
    return keep


def prior_effects(prior: BatchResult, baseline: str) -> dict[tuple[str, str], Effect]:
    """Effects in a batch whose parameters were drawn from the prior (``--parameters prior``), by (scenario,
    outcome), over the pairs whose baseline run satisfies the prior's plausibility constraint."""
    table = outcomes_per_run(prior)
    kept = plausible_seeds(prior, baseline)
    table = table[table.index.get_level_values("seed").isin(kept)]
    if table.empty:
        return {}
    return {(e.scenario, e.outcome): e for e in compare_outcomes(table, baseline)}


def explain(effects: list[Effect], table: pd.DataFrame, batch: BatchResult, baseline: str,
            prior: BatchResult | None = None, attribute: bool = True) -> list[Effect]:
    """Effects with the same effect under the prior (when a prior batch is given) and, with ``attribute``,
    the share of each effect's variance that each drawn parameter explains (``sim.attribution``)."""
    under_prior = prior_effects(prior, baseline) if prior is not None else {}
    drawn = batch.parameters if attribute else pd.DataFrame()
    out = []
    for effect in effects:
        shares = pair_attribution(table, drawn, baseline, effect.scenario, effect.outcome)
        other = under_prior.get((effect.scenario, effect.outcome))
        out.append(replace(effect, attribution=shares or None,
                           **({} if other is None else {"prior_effect": other.effect, "prior_low": other.low,
                                                          "prior_high": other.high, "prior_pairs": other.pairs})))
    return out


def missing_attribution(effects: list[Effect]) -> str | None:
    """Why no effect says what its spread depends on, when too few pairs are the reason (else None)."""
    if not effects or any(e.attribution for e in effects):
        return None
    pairs = max(e.pairs for e in effects)
    if pairs >= MIN_PAIRS:
        return None
    return (f"What each effect's spread depends on is not estimated: the variance shares need at least {MIN_PAIRS} "
            f"pairs, and this comparison has {pairs}; run more replicates.")


def prior_folder(root: Path | str) -> Path:
    """Where a batch's companion batch under the prior lives: the sibling folder ``<root>-prior``."""
    root = Path(root)
    return root.with_name(root.name + "-prior")


def compare_batch(
    root: Path | str, baseline: str | None = None, progress: Callable[[str], None] | None = None,
    prior: Path | str | None = None, attribute: bool = True,
) -> tuple[BatchResult, list[Effect], str]:
    """Load a batch folder and compare every scenario with the baseline (default: the first).

    Args:
        root: the batch folder.
        baseline: the reference scenario's name.
        progress: called with a description before each stage (reading, outcomes, effects).
        prior: a batch of the same scenarios and seeds with ``--parameters prior``: each effect is reported
            under the prior too (what the model assumes before the record is seen).
        attribute: attribute each effect's variance to the parameters the runs drew.
    """
    say = progress or (lambda _: None)
    say("reading the runs")
    batch = load_batch(root)
    if batch.runs.empty:
        raise BatchError(f"{Path(root) / 'runs'}: no completed runs in this batch folder")
    baseline = baseline or batch.scenarios[0]
    if baseline not in batch.scenarios:
        raise BatchError(f"--baseline {baseline!r} is not a scenario of {root}; it holds {', '.join(batch.scenarios)}")
    say("computing the outcomes of every run")
    table = outcomes_per_run(batch)
    say("bootstrapping the paired effects")
    effects = compare_outcomes(table, baseline)
    if prior is not None or attribute:
        say("effects under the prior" if prior is not None else "attributing the effects' variance")
        prior_batch = load_batch(prior) if prior is not None else None
        if prior_batch is not None and baseline not in prior_batch.scenarios:
            raise BatchError(f"{prior}: its scenarios ({', '.join(prior_batch.scenarios)}) do not include the "
                             f"baseline {baseline!r}")
        effects = explain(effects, table, batch, baseline, prior_batch, attribute)
    return batch, effects, baseline
