"""Calibration targets: pattern statistics of incidents, observed and simulated alike.

Pattern-oriented calibration (Grimm et al. 2005): the record is summarised by several patterns at
once, each chosen to inform a mechanism. **Timing** around the religion law's milestones (attacks in
January-June, July-September, October-November around the Senate vote of 29 September and entry into
force on 25 October, and December), **space** (attacks in the four western regions), **clustering**
(attacks within 14 days of the previous one), **severity** (deaths by side, the largest toll of one
attack) and the **policing response** (state operations before and after the first attacks).

Every statistic is computed from an event table in the incident schema by ``sim.events``, so the
observed seed incidents and a simulated year go through exactly the same code. ``TARGETS`` are fitted
by the full-year calibration; ``TARGETS_JAN_SEP`` by the calibration that sees January-September only
(``kazsim calibrate --fit-until 2011-09-30``), whose October-December forecast is then scored out of
sample. Statistics a target set does not fit are its held-out checks. See ``docs/calibration.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data import SEEDS_DIR, ObservedData
from sim.errors import KazsimInputError
from sim.events import ATTACK_KINDS, DEATH_COLUMNS, STATE_KINDS, monthly_series, regional_series
from sim.geography import WESTERN_REGIONS
from sim.textfiles import UnreadableFileError, read_text, safe_repr

#: name -> what it counts and why it is a target (the long version is in docs/calibration.md).
TARGETS: dict[str, str] = {
    "attacks_jan_jun": "militant attacks January-June: the level before the summer",
    "attacks_jul_sep": "militant attacks July-September: the summer, before the law's Senate vote (29 Sep)",
    "attacks_oct_nov": "militant attacks October-November: around the law's entry into force (25 Oct)",
    "attacks_dec": "militant attacks in December: after the autumn wave",
    "attacks_west": "militant attacks in Aktobe, Atyrau, Mangystau and West Kazakhstan: the oil west",
    "attacks_within_14d": "attacks within 14 days of the previous attack: clustering in time",
    "state_ops_jan_jun": "raids, sweeps and targeted arrests January-June: policing before any attack is known",
    "state_ops_jul_dec": "state operations July-December: the response to the attacks",
    "deaths_security": "security personnel killed (attacks and raids)",
    "deaths_militant_civilian": "militants and civilians killed (raids and suicide attacks)",
    "largest_attack_toll": "the most people killed by one militant attack (attackers included): severity",
}

#: targets of the January-September fit: the same patterns, cut at 30 September.
TARGETS_JAN_SEP: dict[str, str] = {
    "attacks_jan_jun": TARGETS["attacks_jan_jun"],
    "attacks_jul_sep": TARGETS["attacks_jul_sep"],
    "attacks_west_jan_sep": "attacks in the four western regions, January-September",
    "attacks_within_14d_jan_sep": "attacks within 14 days of the previous one, January-September",
    "state_ops_jan_jun": TARGETS["state_ops_jan_jun"],
    "state_ops_jul_sep": "state operations July-September",
    "deaths_security_jan_sep": "security personnel killed January-September",
    "deaths_militant_civilian_jan_sep": "militants and civilians killed January-September",
    "largest_attack_toll_jan_sep": "the most people killed by one militant attack, January-September",
}

#: statistics no target set fits: checks of what the fits were not told.
EXTRA_CHECKS: dict[str, str] = {
    "months_with_incident": "months with any incident: spread over the year versus one burst",
    "regions_affected": "regions with at least one incident",
    "max_monthly_attacks": "largest number of attacks in one month",
    "incidents_total": "all incidents",
    "attacks_oct_dec": "attacks October-December (the forecast window)",
}

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
        """The fitting window as ``start..end``."""
        return f"{START.isoformat()}..{self.end.isoformat()}"


FULL_YEAR = TargetSet("full_year", END, TARGETS, EXTRA_CHECKS)
JAN_SEP = TargetSet(
    "jan_sep", dt.date(2011, 9, 30), TARGETS_JAN_SEP,
    {k: v for k, v in {**TARGETS, **EXTRA_CHECKS}.items() if k not in TARGETS_JAN_SEP},
)
TARGET_SETS: dict[dt.date, TargetSet] = {t.end: t for t in (FULL_YEAR, JAN_SEP)}
#: every statistic some target set fits (a failed run returns a rejectable value for each).
FITTED_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*TARGETS, *TARGETS_JAN_SEP]))
#: every pattern statistic (fitted by some set, or a check).
PATTERN_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*FITTED_NAMES, *EXTRA_CHECKS]))


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


def _clustered(days: np.ndarray) -> float:
    """Attacks within ``CLUSTER_DAYS`` of the previous attack."""
    return float(np.sum(np.diff(np.sort(days)) <= CLUSTER_DAYS)) if len(days) > 1 else 0.0


def statistics(
    events: pd.DataFrame,
    regions: list[str] | None = None,
    start: dt.date = START,
    end: dt.date = END,
    held_out: bool = True,
) -> dict[str, float]:
    """Every pattern statistic of an event table (and, with ``held_out``, the monthly series too).

    Windows are calendar windows of ``start``'s year; for a period shorter than a year the later
    windows are simply empty, which is fine as long as observed and simulated use the same period.
    """
    in_period = events[(events["date"] >= pd.Timestamp(start)) & (events["date"] <= pd.Timestamp(end))]
    month = in_period["date"].dt.month.to_numpy()
    attack = in_period["kind"].isin(ATTACK_KINDS).to_numpy()
    state = in_period["kind"].isin(STATE_KINDS).to_numpy()
    west = in_period["region"].isin(WESTERN_REGIONS).to_numpy()
    deaths = in_period[list(DEATH_COLUMNS)].to_numpy().sum(axis=1)
    security = in_period["deaths_security"].to_numpy()
    others = in_period["deaths_militant"].to_numpy() + in_period["deaths_civilian"].to_numpy()
    days = in_period["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    sep = month <= 9

    def count(mask: np.ndarray) -> float:
        return float(np.count_nonzero(mask))

    def largest(mask: np.ndarray) -> float:
        return float(deaths[mask].max()) if mask.any() else 0.0

    out = {
        "attacks_jan_jun": count(attack & (month <= 6)),
        "attacks_jul_sep": count(attack & (month >= 7) & sep),
        "attacks_oct_nov": count(attack & ((month == 10) | (month == 11))),
        "attacks_dec": count(attack & (month == 12)),
        "attacks_west": count(attack & west),
        "attacks_within_14d": _clustered(days[attack]),
        "state_ops_jan_jun": count(state & (month <= 6)),
        "state_ops_jul_dec": count(state & (month >= 7)),
        "deaths_security": float(security.sum()),
        "deaths_militant_civilian": float(others.sum()),
        "largest_attack_toll": largest(attack),
        "attacks_west_jan_sep": count(attack & west & sep),
        "attacks_within_14d_jan_sep": _clustered(days[attack & sep]),
        "state_ops_jul_sep": count(state & (month >= 7) & sep),
        "deaths_security_jan_sep": float(security[sep].sum()),
        "deaths_militant_civilian_jan_sep": float(others[sep].sum()),
        "largest_attack_toll_jan_sep": largest(attack & sep),
    }
    if held_out:
        monthly = monthly_series(events, start, end)
        if regions is None:
            regions = sorted(set(events["region"]))
        regional = regional_series(events, regions, start, end).groupby("region")["incidents"].sum()
        out.update({
            "months_with_incident": float((monthly["incidents"] > 0).sum()),
            "regions_affected": float((regional > 0).sum()),
            "max_monthly_attacks": float(monthly["attacks"].max()) if len(monthly) else 0.0,
            "incidents_total": float(monthly["incidents"].sum()),
            "attacks_oct_dec": count(attack & (month >= 10)),
        })
        for i, (_month, row) in enumerate(monthly.iterrows(), start=1):
            out[f"monthly_attacks_{i:02d}"] = float(row["attacks"])
            out[f"monthly_state_ops_{i:02d}"] = float(row["state_operations"])
            out[f"monthly_deaths_{i:02d}"] = float(row["deaths_total"])
    return out


def observed_statistics(seeds: Path | None = None) -> dict[str, float]:
    """The statistics of the seed-documented incidents of 2011."""
    observed = ObservedData(seeds or SEEDS_DIR)
    return statistics(observed.seed_incidents, list(observed.regions["region"]))


def monthly_attacks_observed(seeds: Path | None = None) -> np.ndarray:
    """Observed monthly militant attacks, Jan..Dec 2011 (seed incidents)."""
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
