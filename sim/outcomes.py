"""The outcomes every comparison, exploration and discovery measures: one registry, one definition each.

An outcome is one number per run (a scenario at a seed), computed from the run's event and daily
tables. Each says what it counts (its name and plain-language label), in which unit, and whether a
higher value is worse; where more is neither better nor worse, ``no_direction`` says why, and the
probability that a counterfactual is worse is left blank for it. ``docs/outcomes.md`` is generated
from this module (``uv run python -m sim.outcomes > docs/outcomes.md``; a test keeps them equal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from sim.events import ATTACK_KINDS, DEATH_COLUMNS, KINDS, STATE_KINDS


@dataclass(frozen=True)
class RunTables:
    """A batch's event and daily tables, with the per-run aggregates outcomes share.

    Attributes:
        runs: the complete runs, one row per (``scenario``, ``seed``).
        events: every run's events (incident schema) with ``scenario`` and ``seed`` columns.
        daily: every run's daily table with ``scenario`` and ``seed`` columns.
    """

    runs: pd.DataFrame
    events: pd.DataFrame
    daily: pd.DataFrame

    @cached_property
    def index(self) -> pd.MultiIndex:
        """The runs as a (scenario, seed) index."""
        return pd.MultiIndex.from_frame(self.runs[["scenario", "seed"]])

    @cached_property
    def event_sums(self) -> pd.DataFrame:
        """Per run: the number of events of each kind (``n_<kind>``) and the sums of the toll columns."""
        out = pd.DataFrame(index=self.index)
        if len(self.events):
            keys = [self.events["scenario"], self.events["seed"]]
            counts = pd.crosstab(keys, self.events["kind"])
            for kind in KINDS:
                out[f"n_{kind}"] = counts.get(kind, 0)
            sums = self.events.groupby(keys)[[*DEATH_COLUMNS, "arrests"]].sum()
            out = out.join(sums)
        for column in (*(f"n_{kind}" for kind in KINDS), *DEATH_COLUMNS, "arrests"):
            if column not in out:
                out[column] = 0
        return out.fillna(0)

    @cached_property
    def days(self) -> pd.DataFrame:
        """The daily table with ``date`` as datetime."""
        return self.daily.assign(date=pd.to_datetime(self.daily["date"]))

    def daily_total(self, column: str) -> pd.Series:
        """Per run: the sum of a daily flow column over the run."""
        return self.days.groupby(["scenario", "seed"])[column].sum().reindex(self.index)

    def daily_last(self, column: str) -> pd.Series:
        """Per run: a daily stock column on the run's last day."""
        last = self.days.sort_values("date").groupby(["scenario", "seed"]).tail(1).set_index(["scenario", "seed"])
        return last[column].reindex(self.index)

    def daily_mean_in_months(self, columns: list[str], months: tuple[int, ...]) -> pd.Series:
        """Per run: the mean over the days of ``months`` of the sum of ``columns`` (NaN when the run has none)."""
        days = self.days[self.days["date"].dt.month.isin(months)]
        total = days[columns].sum(axis=1)
        return total.groupby([days["scenario"], days["seed"]]).mean().reindex(self.index)


@dataclass(frozen=True)
class Outcome:
    """One outcome per run.

    Attributes:
        name: the column name in tables, CSV files and ``--where`` expressions.
        label: what it counts, in plain language.
        unit: the unit of one run's value (and of an effect on it).
        short: a title of a few words for figures.
        worse_if_higher: True when more is worse; None when more is neither better nor worse.
        definition: how it is computed from the run's tables.
        compute: the function giving every run's value from the batch's tables.
        no_direction: why more is neither better nor worse (why P(worse) is blank); only with
            ``worse_if_higher`` None.
        headline: shown in the effects figure of reports.
    """

    name: str
    label: str
    unit: str
    short: str
    worse_if_higher: bool | None
    definition: str
    compute: Callable[[RunTables], pd.Series]
    no_direction: str = ""
    headline: bool = False


def _events(*kinds: str) -> Callable[[RunTables], pd.Series]:
    return lambda tables: tables.event_sums[[f"n_{kind}" for kind in kinds]].sum(axis=1)


def _column(column: str) -> Callable[[RunTables], pd.Series]:
    return lambda tables: tables.event_sums[column]


_OPERATIONS_NEUTRAL = ("more operations are not in themselves better or worse: their results show in attacks, deaths "
                       "and detentions of the uninvolved")
_KILLED = "people killed in militant attacks and police raids"
_NAMES = {"armed_attack": ("Armed attacks", "armed attacks"), "bombing": ("Bombings", "bombings"),
          "suicide_bombing": ("Suicide bombings", "suicide bombings")}

#: Every outcome, in the order tables show them.
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("attacks", "Militant attacks (armed attacks, bombings and suicide bombings)", "attacks", "Attacks", True,
            "number of events of the attack kinds (" + ", ".join(ATTACK_KINDS) + ")", _events(*ATTACK_KINDS),
            headline=True),
    *(Outcome(f"attacks_{kind}", _NAMES[kind][0], "attacks", _NAMES[kind][0], True,
              f"number of events of kind {kind}", _events(kind)) for kind in ATTACK_KINDS),
    Outcome("state_operations", "State operations (raids, detention sweeps and targeted arrests)", "operations",
            "State operations", None, "number of events of the state kinds (" + ", ".join(STATE_KINDS) + ")",
            _events(*STATE_KINDS), _OPERATIONS_NEUTRAL),
    Outcome("raids", "Special-forces raids on militant cells", "operations", "Raids", None,
            "number of events of kind raid", _events("raid"), _OPERATIONS_NEUTRAL),
    Outcome("sweeps", "Detention sweeps after attacks", "operations", "Sweeps", None,
            "number of events of kind sweep", _events("sweep"),
            "a sweep's harm is counted in uninvolved_people_detained; the count of sweeps alone has no direction"),
    Outcome("deaths_security", "Security personnel killed", "people", "Security personnel killed", True,
            f"sum of deaths_security over events ({_KILLED})", _column("deaths_security"), headline=True),
    Outcome("deaths_civilian", "Civilians killed", "people", "Civilians killed", True,
            f"sum of deaths_civilian over events ({_KILLED})", _column("deaths_civilian")),
    Outcome("deaths_militant", "Militants killed", "people", "Militants killed", True,
            f"sum of deaths_militant over events ({_KILLED}); every death counts as a harm",
            _column("deaths_militant")),
    Outcome("deaths_total", "Deaths, all categories (security personnel, civilians, militants)", "people",
            "Deaths (all)", True, "sum of the death columns over events", lambda t: t.event_sums[list(DEATH_COLUMNS)]
            .sum(axis=1), headline=True),
    Outcome("people_arrested", "People arrested or detained in raids, targeted arrests and sweeps", "people",
            "People arrested", None, "sum of arrests over events", _column("arrests"),
            "arrests of cell members weaken militancy while detentions of the uninvolved feed it; the two are "
            "counted apart in militant_cells_at_end and uninvolved_people_detained"),
    Outcome("uninvolved_people_detained", "Uninvolved people detained in detention sweeps", "people",
            "Uninvolved detained", True, "sum of the daily column detained_uninvolved over the run",
            lambda t: t.daily_total("detained_uninvolved"), headline=True),
    Outcome("people_sympathising_nov_dec",
            "People openly sympathising with militants or in the recruit pool, mean per day in November-December",
            "people", "Sympathisers, Nov-Dec", True,
            "mean over the run's days in November and December of the daily columns sympathisers + recruits "
            "(blank for runs that end before November)",
            lambda t: t.daily_mean_in_months(["sympathisers", "recruits"], (11, 12)), headline=True),
    Outcome("militant_cells_at_end", "Militant cells active on the run's last day", "cells", "Cells at end", True,
            "daily column cells on the last day (31 December for a full year)", lambda t: t.daily_last("cells"),
            headline=True),
    Outcome("cell_members_at_end", "Members at liberty of militant cells on the run's last day", "people",
            "Cell members at end", True, "daily column members on the last day", lambda t: t.daily_last("members")),
)
BY_NAME: dict[str, Outcome] = {outcome.name: outcome for outcome in OUTCOMES}
#: Names earlier versions used, and the outcome each became.
RENAMED: dict[str, str] = {
    "radicalised_nov_dec": "people_sympathising_nov_dec",
    "cells_at_end": "militant_cells_at_end",
    "members_at_end": "cell_members_at_end",
    "detained_uninvolved": "uninvolved_people_detained",
    "arrests": "people_arrested",
}
#: Why a P(worse) cell is blank, as tables and reports say it.
BLANK_P_WORSE = ("P(worse) is blank where more is neither better nor worse (the outcome's note in docs/outcomes.md "
                 "says why)")
OUTCOMES_DOC = "docs/outcomes.md"


def outcomes_per_run(batch) -> pd.DataFrame:
    """One row per (scenario, seed) of a batch (a :class:`~sim.batch.BatchResult`), one column per outcome."""
    tables = RunTables(batch.runs, batch.events, batch.daily)
    result = pd.DataFrame({outcome.name: outcome.compute(tables) for outcome in OUTCOMES}, index=tables.index)
    return result.astype(float).sort_index()


def describe(name: str) -> str:
    """An outcome's label and unit, for messages: ``Militant attacks (...) [attacks]``."""
    outcome = BY_NAME[name]
    return f"{outcome.label} [{outcome.unit}]"


def markdown() -> str:
    """``docs/outcomes.md``: every outcome with its unit, direction and definition."""
    lines = [
        "# Outcomes",
        "",
        "<!-- Generated from sim/outcomes.py by `uv run python -m sim.outcomes > docs/outcomes.md`; "
        "tests/test_docs.py keeps them equal. -->",
        "",
        "Every comparison (`kazsim compare`), exploration (`kazsim explore`) and discovery (`kazsim discover`) "
        "measures these outcomes, one value per run (a scenario at one seed) over the simulated period "
        "(a full year unless the scenario's period is shorter). An **effect** is the counterfactual's value minus "
        "the baseline's for the same seed (common random numbers), in the outcome's unit; reports give its mean "
        "over the pairs with a 90 % percentile-bootstrap interval, and the 5-95 % range of the single-seed effects "
        "(what one year could look like).",
        "",
        "**P(worse)** is the share of pairs in which the counterfactual is worse (higher, for outcomes where higher "
        "is worse), ties counted half. It is blank for outcomes where more is neither better nor worse; the last "
        "column says why.",
        "",
        "In `kazsim discover --where` conditions, outcomes go by these names; with `--baseline`, "
        "`baseline_<name>` is the baseline's value in the same pair and `effect_<name>` the counterfactual's minus "
        "the baseline's (e.g. `--where \"effect_attacks > 0\"`).",
        "",
        "| name | what it counts | unit | higher is | how it is computed | why P(worse) is blank |",
        "|---|---|---|---|---|---|",
    ]
    direction = {True: "worse", False: "better", None: "neither"}
    for outcome in OUTCOMES:
        lines.append(f"| `{outcome.name}` | {outcome.label} | {outcome.unit} | {direction[outcome.worse_if_higher]} "
                     f"| {outcome.definition} | {outcome.no_direction or '-'} |")
    lines += ["", "## Renamed outcomes", "", "Earlier versions of kazsim used these names:", "",
              "| earlier name | now |", "|---|---|"]
    lines += [f"| `{old}` | `{new}` |" for old, new in RENAMED.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
