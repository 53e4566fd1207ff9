"""``kazsim data``: the observed 2011 incidents, monthly and regional series."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from sim.cli.common import console, reports_input_errors
from sim.data import SEEDS_DIR, ObservedData
from sim.events import DEATH_COLUMNS, monthly_series, regional_series
from sim.provenance import atomic_write_text
from sim.tables import frame_table


def incident_view(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents with compact columns for printing."""
    deaths = incidents[list(DEATH_COLUMNS)].astype(str).agg("/".join, axis=1)
    return incidents.assign(
        region=incidents["region"].str.replace(" Region", "", regex=False),
        deaths=deaths,
        seed=incidents["seed_documented"].map({True: "yes", False: "domain"}),
    )


@reports_input_errors
def data(
    seeds: Annotated[Path, typer.Option(help="Folder holding the seed data.")] = SEEDS_DIR,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Only incidents documented by the seed articles.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Also write incidents, monthly and regional series as CSV here.")
    ] = None,
) -> None:
    """Print the observed 2011 incidents and their monthly series."""
    observed = ObservedData(seeds)
    observed.validate()
    incidents = observed.seed_incidents if seed_only else observed.incidents
    monthly = monthly_series(incidents)
    regional = regional_series(incidents, observed.regions["region"])

    console.print(
        frame_table(
            incident_view(incidents),
            f"Observed incidents, 2011 ({len(incidents)} rows; deaths = security/civilian/militant/unknown; "
            "seed = documented by a seed article, domain = only by the domain notes)",
            {"id": "id", "date": "date", "region": "region", "place": "place", "kind": "kind",
             "initiator": "by", "deaths": "deaths s/c/m/u", "injured": "inj", "arrests": "arr", "seed": "seed"},
        )
    )
    month_view = monthly.reset_index().assign(month=lambda f: f["month"].astype(str))
    console.print(
        frame_table(
            month_view,
            "Monthly series",
            {"month": "month", "incidents": "incidents", "attacks": "attacks", "state_operations": "state ops",
             "deaths_security": "d.sec", "deaths_civilian": "d.civ", "deaths_militant": "d.mil",
             "deaths_unknown": "d.unk", "deaths_total": "deaths", "arrests": "arrests"},
        )
    )
    by_region = regional.groupby("region")[["incidents", "attacks", "state_operations", "deaths_total"]].sum()
    by_region = by_region[by_region["incidents"] > 0].reset_index()
    console.print(frame_table(by_region, "By region (regions with incidents)"))
    total = monthly[[*DEATH_COLUMNS, "deaths_total", "arrests"]].sum()
    console.print(
        "Totals: "
        + ", ".join(f"{name} {int(value)}" for name, value in total.items())
        + f"; incidents {len(incidents)}"
    )
    if out is not None:
        tables = {
            "observed_incidents.csv": incidents,
            "observed_monthly.csv": monthly.reset_index().assign(month=lambda f: f["month"].astype(str)),
            "observed_regional.csv": regional.assign(month=lambda f: f["month"].astype(str)),
        }
        for name, frame in tables.items():
            atomic_write_text(out / name, frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n"))
        console.print(f"Wrote {', '.join(tables)} to {out}")
