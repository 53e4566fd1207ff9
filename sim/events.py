"""One event schema for observed and simulated incidents, and its monthly aggregation.

Observed incidents (``seeds/incidents.csv``) and the events the engine emits share these
columns and this taxonomy, so every series, total and calibration target is computed by the
same code whatever the events' origin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

EVENT_COLUMNS: tuple[str, ...] = (
    "id",
    "date",
    "date_precision",
    "place",
    "region",
    "initiator",
    "kind",
    "deaths_security",
    "deaths_civilian",
    "deaths_militant",
    "deaths_unknown",
    "injured",
    "arrests",
    "sources",
    "evidence",
    "notes",
)
DEATH_COLUMNS: tuple[str, ...] = (
    "deaths_security",
    "deaths_civilian",
    "deaths_militant",
    "deaths_unknown",
)
COUNT_COLUMNS: tuple[str, ...] = (*DEATH_COLUMNS, "injured", "arrests")
TEXT_COLUMNS: tuple[str, ...] = tuple(c for c in EVENT_COLUMNS if c not in (*COUNT_COLUMNS, "date"))
DATE_PRECISIONS: tuple[str, ...] = ("day", "month")
INITIATORS: tuple[str, ...] = ("militant", "state", "unknown")

#: The incident taxonomy: kind -> (usual initiator, definition).
KINDS: dict[str, tuple[str, str]] = {
    "armed_attack": ("militant", "militants shoot at or assault security forces or others"),
    "bombing": ("militant", "an explosive device placed, thrown or detonated by militants"),
    "suicide_bombing": (
        "militant",
        "the perpetrator detonates a device on or near himself, deliberately or prematurely",
    ),
    "unexplained_explosion": ("unknown", "an explosion with no established attribution"),
    "raid": ("state", "a targeted operation against identified suspects: siege, manhunt, clash"),
    "sweep": ("state", "a broad detention sweep that detains many people"),
    "arrests": ("state", "targeted arrests of a few named suspects without a clash"),
}
ATTACK_KINDS: tuple[str, ...] = ("armed_attack", "bombing", "suicide_bombing")
STATE_KINDS: tuple[str, ...] = ("raid", "sweep", "arrests")

#: Source id prefix of the seed articles; any other source key is a domain-notes key.
SEED_SOURCE_PREFIX = "S"


def empty_events() -> pd.DataFrame:
    """An event table with no rows and the schema's columns and dtypes."""
    return normalise_events(pd.DataFrame({c: [] for c in EVENT_COLUMNS}))


def normalise_events(events: pd.DataFrame) -> pd.DataFrame:
    """Give an event table the schema's column order and dtypes.

    Args:
        events: a table holding at least the schema's columns.

    Returns:
        A copy with exactly ``EVENT_COLUMNS``: ``date`` as datetime64, counts as int64,
        text columns as strings.
    """
    out = events.loc[:, list(EVENT_COLUMNS)].reset_index(drop=True)
    # Columns already in the schema's dtype are kept as they are (a simulated table is built so).
    if out["date"].dtype != "datetime64[ns]":
        out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    for column in COUNT_COLUMNS:
        if out[column].dtype != "int64":
            out[column] = out[column].astype("int64")
    for column in TEXT_COLUMNS:
        if out[column].dtype != "str" or out[column].hasnans:
            out[column] = out[column].fillna("").astype(str)
    return out.copy()


def is_seed_documented(sources: pd.Series) -> pd.Series:
    """Whether each row cites at least one seed article (``S1`` … ``S5``)."""
    return sources.fillna("").map(
        lambda s: any(k.strip().startswith(SEED_SOURCE_PREFIX) for k in s.split(";") if k.strip())
    )


def month_range(start: dt.date, end: dt.date) -> pd.PeriodIndex:
    """All calendar months touched by the period ``start``..``end`` inclusive."""
    return pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M", name="month")


def monthly_series(
    events: pd.DataFrame,
    start: dt.date = dt.date(2011, 1, 1),
    end: dt.date = dt.date(2011, 12, 31),
) -> pd.DataFrame:
    """Aggregate events into the monthly series every comparison uses.

    Args:
        events: an event table in the schema (observed or simulated).
        start: first day of the period; months without events count zero.
        end: last day of the period.

    Returns:
        One row per month with: ``incidents``, ``by_initiator_<initiator>``, ``kind_<kind>``,
        ``attacks`` (militant attack kinds), ``state_operations``, the death categories,
        ``deaths_total``, ``injured`` and ``arrests``.
    """
    months = month_range(start, end)
    in_period = events[(events["date"] >= pd.Timestamp(start)) & (events["date"] <= pd.Timestamp(end))]
    month = in_period["date"].dt.to_period("M").rename("month")
    out = pd.DataFrame(index=months)
    out["incidents"] = month.value_counts().reindex(months, fill_value=0)
    for initiator in INITIATORS:
        hits = month[in_period["initiator"] == initiator]
        out[f"by_initiator_{initiator}"] = hits.value_counts().reindex(months, fill_value=0)
    for kind in KINDS:
        hits = month[in_period["kind"] == kind]
        out[f"kind_{kind}"] = hits.value_counts().reindex(months, fill_value=0)
    out["attacks"] = out[[f"kind_{k}" for k in ATTACK_KINDS]].sum(axis=1)
    out["state_operations"] = out[[f"kind_{k}" for k in STATE_KINDS]].sum(axis=1)
    sums = in_period.groupby(month)[list(COUNT_COLUMNS)].sum().reindex(months, fill_value=0)
    for column in COUNT_COLUMNS:
        out[column] = sums[column]
    out["deaths_total"] = out[list(DEATH_COLUMNS)].sum(axis=1)
    return out.astype("int64")


def regional_series(
    events: pd.DataFrame,
    regions: Iterable[str],
    start: dt.date = dt.date(2011, 1, 1),
    end: dt.date = dt.date(2011, 12, 31),
) -> pd.DataFrame:
    """Monthly incidents, attacks, state operations and deaths per region (long format).

    Args:
        events: an event table in the schema.
        regions: every region key, so that regions without events appear with zeros.
        start: first day of the period.
        end: last day of the period.

    Returns:
        Columns ``month, region, incidents, attacks, state_operations, deaths_total, arrests``.
    """
    months = month_range(start, end)
    regions = list(regions)
    in_period = events[(events["date"] >= pd.Timestamp(start)) & (events["date"] <= pd.Timestamp(end))]
    frame = pd.DataFrame(
        {
            "month": in_period["date"].dt.to_period("M"),
            "region": in_period["region"],
            "incidents": 1,
            "attacks": in_period["kind"].isin(ATTACK_KINDS).astype("int64"),
            "state_operations": in_period["kind"].isin(STATE_KINDS).astype("int64"),
            "deaths_total": in_period[list(DEATH_COLUMNS)].sum(axis=1),
            "arrests": in_period["arrests"],
        }
    )
    full = pd.MultiIndex.from_product([months, regions], names=["month", "region"])
    out = frame.groupby(["month", "region"]).sum().reindex(full, fill_value=0)
    return out.astype("int64").reset_index()


def totals(events: pd.DataFrame) -> pd.Series:
    """Whole-table totals: incidents, attacks, state operations, deaths by category, arrests."""
    values = {
        "incidents": len(events),
        "attacks": int(events["kind"].isin(ATTACK_KINDS).sum()),
        "state_operations": int(events["kind"].isin(STATE_KINDS).sum()),
    }
    for column in COUNT_COLUMNS:
        values[column] = int(events[column].sum())
    values["deaths_total"] = int(sum(values[c] for c in DEATH_COLUMNS))
    return pd.Series(values, dtype="int64")

