"""Calibration targets: summary statistics of incidents, observed and simulated alike.

Every statistic is computed from an event table in the incident schema by ``sim.events``
(``monthly_series``, ``regional_series``, ``ATTACK_KINDS``), so the observed seed incidents and a
simulated year go through exactly the same code. The observed target is
``ObservedData().seed_incidents`` (the incidents documented by a seed article).

``TARGETS`` are fitted by the full-year calibration; ``HELD_OUT`` are only used in the posterior
predictive check (they test what the fit was not told). ``TARGETS_JAN_SEP`` are fitted by the
calibration that sees January-September only (``kazsim calibrate --fit-until 2011-09-30``), whose
October-December forecast is then scored out of sample. Those statistics are defined on fixed
calendar windows that end by 30 September, so a full-year run gives them the same values as a
run that stops on 30 September. ``TargetSet`` ties each set to its fitting window. See
``docs/calibration.md`` for why each was chosen.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import KazsimInputError
from sim.events import ATTACK_KINDS, monthly_series, regional_series
from sim.textfiles import UnreadableFileError, read_text, safe_repr

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

#: targets of the January-September fit: quarters instead of half-years (see docs/calibration.md §2).
TARGETS_JAN_SEP: dict[str, str] = {
    "attacks_q1": "militant attacks January-March: the quiet start",
    "attacks_q2": "attacks April-June: the first attacks (Aktobe)",
    "attacks_q3": "attacks July-September: the level at the end of the fitting window",
    "state_ops_h1": "state operations January-June: policing before the first large raid",
    "state_ops_q3": "state operations July-September: the response to the first attacks",
    "deaths_security_jan_sep": "security personnel killed January-September",
    "deaths_militant_civilian_jan_sep": "militants and civilians killed January-September",
    "months_with_incident_jan_sep": "months January-September with any incident: spread versus one burst",
}

WEST = ("Aktobe Region", "Atyrau Region", "Mangystau Region", "West Kazakhstan Region")
CLUSTER_DAYS = 14
START = dt.date(2011, 1, 1)
END = dt.date(2011, 12, 31)


class TargetError(KazsimInputError):
    """A target file that cannot be used, or a fitting window without a target set."""


@dataclass(frozen=True)
class TargetSet:
    """The statistics a calibration fits and the window it simulates and fits.

    Attributes:
        name: short name (``full_year`` or ``jan_sep``).
        end: last day of the fitting window (it starts on ``START``).
        targets: fitted statistics, name -> why.
        held_out: full-year statistics the posterior predictive check reports as not fitted.
    """

    name: str
    end: dt.date
    targets: dict[str, str]
    held_out: dict[str, str]

    @property
    def days(self) -> int:
        """Simulated days of the fitting window."""
        return (self.end - START).days + 1

    @property
    def window(self) -> str:
        return f"{START.isoformat()}..{self.end.isoformat()}"


FULL_YEAR = TargetSet("full_year", END, TARGETS, HELD_OUT)
JAN_SEP = TargetSet(
    "jan_sep", dt.date(2011, 9, 30), TARGETS_JAN_SEP,
    {k: v for k, v in {**TARGETS, **HELD_OUT}.items() if k not in TARGETS_JAN_SEP},
)
TARGET_SETS: dict[dt.date, TargetSet] = {t.end: t for t in (FULL_YEAR, JAN_SEP)}
#: every statistic some target set fits (a failed run returns a rejectable value for each).
FITTED_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*TARGETS, *TARGETS_JAN_SEP]))


def target_set(fit_until: dt.date | str | None = None) -> TargetSet:
    """The target set whose fitting window ends on ``fit_until`` (default: the full year).

    Raises:
        TargetError: for a date that is not an ISO date or has no target set.
    """
    if fit_until is None:
        return FULL_YEAR
    if isinstance(fit_until, str):
        try:
            fit_until = dt.date.fromisoformat(fit_until.strip())
        except ValueError:
            raise TargetError(f"--fit-until {fit_until!r}: not a date (YYYY-MM-DD)") from None
    if fit_until not in TARGET_SETS:
        known = ", ".join(f"{end.isoformat()} ({t.name})" for end, t in TARGET_SETS.items())
        raise TargetError(f"--fit-until {fit_until.isoformat()}: no target set ends there; use one of {known}")
    return TARGET_SETS[fit_until]


def statistics(
    events: pd.DataFrame,
    regions: list[str] | None = None,
    start: dt.date = START,
    end: dt.date = END,
    held_out: bool = True,
) -> dict[str, float]:
    """The fitted statistics of every target set (and, with ``held_out``, the held-out ones) of an event table.

    Half-years and quarters are calendar windows of ``start``'s year; for a period shorter than a
    year the later windows are simply empty or partial, which is fine as long as observed and
    simulated use the same period. The ``*_jan_sep`` statistics and the quarters up to September
    only count events up to 30 September, whatever the period's end.
    """
    monthly = monthly_series(events, start, end)
    year = start.year
    half = pd.Period(dt.date(year, 7, 1), "M")
    first = monthly.index < half
    quarter = np.asarray((monthly.index.month - 1) // 3 + 1) if len(monthly) else np.zeros(0, dtype=int)
    jan_sep = monthly.index <= pd.Period(dt.date(year, 9, 1), "M")
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
        "attacks_q1": float(monthly.loc[quarter == 1, "attacks"].sum()),
        "attacks_q2": float(monthly.loc[quarter == 2, "attacks"].sum()),
        "attacks_q3": float(monthly.loc[quarter == 3, "attacks"].sum()),
        "state_ops_q3": float(monthly.loc[quarter == 3, "state_operations"].sum()),
        "deaths_security_jan_sep": float(monthly.loc[jan_sep, "deaths_security"].sum()),
        "deaths_militant_civilian_jan_sep": float(
            monthly.loc[jan_sep, "deaths_militant"].sum() + monthly.loc[jan_sep, "deaths_civilian"].sum()
        ),
        "months_with_incident_jan_sep": float((monthly.loc[jan_sep, "incidents"] > 0).sum()),
    }
    if held_out:
        if regions is None:
            regions = sorted(set(events["region"]))
        regional = regional_series(events, regions, start, end).groupby("region")[["incidents", "attacks"]].sum()
        q4 = quarter == 4
        out.update(
            {
                "regions_affected": float((regional["incidents"] > 0).sum()),
                "attacks_west": float(regional.loc[regional.index.isin(WEST), "attacks"].sum()),
                "max_monthly_attacks": float(monthly["attacks"].max()) if len(monthly) else 0.0,
                "incidents_total": float(monthly["incidents"].sum()),
                "attacks_q4": float(monthly.loc[q4, "attacks"].sum()),
            }
        )
        for i, (_month, row) in enumerate(monthly.iterrows(), start=1):
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


def load_targets(path: Path | str, names: dict[str, str] | tuple[str, ...] = tuple(TARGETS)) -> dict[str, float]:
    """Read observed target values from a JSON file ``{"name": number, ...}`` (e.g. synthetic data).

    Every name in ``names`` (default: the full-year ``TARGETS``) must be present with a finite
    non-negative number; other keys are ignored. A ``summary.json`` is read through its ``observed``.
    """
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except UnreadableFileError as error:
        raise TargetError(f"{path}: target file {error.problem.removeprefix('file ')}") from None
    except json.JSONDecodeError as error:
        raise TargetError(f"{path}: not valid JSON ({error})") from None
    except RecursionError:
        raise TargetError(f"{path}: not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise TargetError(f"{path}: expected a JSON object mapping target names to numbers")
    if "targets" in data and isinstance(data["targets"], dict) and isinstance(data.get("observed"), dict):
        data = data["observed"]  # a summary.json
    out = {}
    for name in names:
        if name not in data:
            raise TargetError(f"{path}: target {name!r} is missing")
        value = data[name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or abs(value) > 1e12 or not np.isfinite(value) or value < 0:
            raise TargetError(f"{path}: target {name!r} must be a non-negative number (got {safe_repr(value)})")
        out[name] = float(value)
    return out
