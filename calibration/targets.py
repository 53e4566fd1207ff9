"""Calibration targets: summary statistics of incidents, observed and simulated alike.

Every statistic is computed from an event table in the incident schema by ``sim.events``
(``monthly_series``, ``regional_series``, ``ATTACK_KINDS``), so the observed seed incidents and a
simulated year go through exactly the same code. The observed target is
``ObservedData().seed_incidents`` (the incidents documented by a seed article).

``TARGETS`` are fitted; ``HELD_OUT`` are only used in the posterior predictive check (they test
what the fit was not told). See ``docs/calibration.md`` for why each was chosen.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import KazsimInputError
from sim.events import ATTACK_KINDS, monthly_series, regional_series

#: name -> why it is a target (short; the long version is in docs/calibration.md).
TARGETS: dict[str, str] = {
    "attacks_h1": "militant attacks January-June: the level of militant activity before the summer",
    "attacks_h2": "militant attacks July-December: the autumn wave (Atyrau, Almaty, Taraz)",
    "state_ops_h1": "raids, sweeps and targeted arrests January-June: policing response level",
    "state_ops_h2": "state operations July-December: the response to the wave",
    "deaths_security": "security personnel killed: lethality of attacks and raids for the state side",
    "deaths_militant_civilian": "militants and civilians killed: lethality of raids and suicide attacks",
    "months_with_incident": "months with any incident: spread of activity over the year (vs one burst)",
    "attacks_within_14d": "attacks that follow another attack within 14 days: temporal clustering",
}

#: statistics used only for the posterior predictive check.
HELD_OUT: dict[str, str] = {
    "regions_affected": "regions with at least one incident",
    "attacks_west": "attacks in the four western regions (Aktobe, Atyrau, Mangystau, West Kazakhstan)",
    "max_monthly_attacks": "largest number of attacks in one month",
    "incidents_total": "all incidents",
    "attacks_q4": "attacks October-December (the forecast window of the baselines)",
}

WEST = ("Aktobe Region", "Atyrau Region", "Mangystau Region", "West Kazakhstan Region")
CLUSTER_DAYS = 14
START = dt.date(2011, 1, 1)
END = dt.date(2011, 12, 31)


class TargetError(KazsimInputError):
    """A target file that cannot be used."""


def statistics(
    events: pd.DataFrame,
    regions: list[str] | None = None,
    start: dt.date = START,
    end: dt.date = END,
    held_out: bool = True,
) -> dict[str, float]:
    """The target (and, with ``held_out``, the held-out) statistics of an event table.

    Half-years are split at 1 July of ``start``'s year; for a period shorter than a year the second
    half is simply empty or partial, which is fine as long as observed and simulated use the same period.
    """
    monthly = monthly_series(events, start, end)
    half = pd.Period(dt.date(start.year, 7, 1), "M")
    first = monthly.index < half
    in_period = events[(events["date"] >= pd.Timestamp(start)) & (events["date"] <= pd.Timestamp(end))]
    attack_days = np.sort(
        in_period.loc[in_period["kind"].isin(ATTACK_KINDS), "date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    )
    clustered = int(np.sum(np.diff(attack_days) <= CLUSTER_DAYS)) if len(attack_days) > 1 else 0
    out = {
        "attacks_h1": float(monthly.loc[first, "attacks"].sum()),
        "attacks_h2": float(monthly.loc[~first, "attacks"].sum()),
        "state_ops_h1": float(monthly.loc[first, "state_operations"].sum()),
        "state_ops_h2": float(monthly.loc[~first, "state_operations"].sum()),
        "deaths_security": float(monthly["deaths_security"].sum()),
        "deaths_militant_civilian": float(monthly["deaths_militant"].sum() + monthly["deaths_civilian"].sum()),
        "months_with_incident": float((monthly["incidents"] > 0).sum()),
        "attacks_within_14d": float(clustered),
    }
    if held_out:
        if regions is None:
            regions = sorted(set(events["region"]))
        regional = regional_series(events, regions, start, end).groupby("region")[["incidents", "attacks"]].sum()
        q4 = monthly.index >= pd.Period(dt.date(start.year, 10, 1), "M")
        out.update(
            {
                "regions_affected": float((regional["incidents"] > 0).sum()),
                "attacks_west": float(regional.loc[regional.index.isin(WEST), "attacks"].sum()),
                "max_monthly_attacks": float(monthly["attacks"].max()) if len(monthly) else 0.0,
                "incidents_total": float(monthly["incidents"].sum()),
                "attacks_q4": float(monthly.loc[q4, "attacks"].sum()),
            }
        )
        for i, (month, row) in enumerate(monthly.iterrows(), start=1):
            out[f"monthly_attacks_{i:02d}"] = float(row["attacks"])
            out[f"monthly_state_ops_{i:02d}"] = float(row["state_operations"])
            out[f"monthly_deaths_{i:02d}"] = float(row["deaths_total"])
    return out


def observed_statistics(seeds: Path | None = None) -> dict[str, float]:
    """The statistics of the seed-documented incidents of 2011."""
    from sim.data import SEEDS_DIR, ObservedData

    observed = ObservedData(seeds or SEEDS_DIR)
    return statistics(observed.seed_incidents, list(observed.regions["region"]))


def monthly_attacks_observed(seeds: Path | None = None) -> np.ndarray:
    """Observed monthly militant attacks, Jan..Dec 2011 (seed incidents)."""
    from sim.data import SEEDS_DIR, ObservedData

    return monthly_series(ObservedData(seeds or SEEDS_DIR).seed_incidents)["attacks"].to_numpy()


def load_targets(path: Path | str) -> dict[str, float]:
    """Read observed target values from a JSON file ``{"name": number, ...}`` (e.g. synthetic data).

    Every key of ``TARGETS`` must be present with a finite non-negative number; other keys are ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise TargetError(f"{path}: target file not found")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise TargetError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise TargetError(f"{path}: expected a JSON object mapping target names to numbers")
    if "targets" in data and isinstance(data["targets"], dict) and "observed" in data:
        data = data["observed"]  # a summary.json
    out = {}
    for name in TARGETS:
        if name not in data:
            raise TargetError(f"{path}: target {name!r} is missing")
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise TargetError(f"{path}: target {name!r} must be a non-negative number (got {value!r})")
        out[name] = float(value)
    return out
