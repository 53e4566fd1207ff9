"""The 2011 dataset: traceable to its sources, reproducing their tallies, strictly validated."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli.main import app
from sim.data import ObservedData
from sim.errors import DataError
from sim.events import COUNT_COLUMNS, DEATH_COLUMNS, INITIATORS, KINDS, monthly_series, normalise_events, totals

NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}


def normalise_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quotes(evidence: str) -> list[str]:
    return [q.strip() for q in evidence.split(" | ") if q.strip()]


def test_every_evidence_quote_is_verbatim_in_a_cited_source(observed: ObservedData) -> None:
    domain = normalise_space((observed.seeds_dir / "reference" / "domain-2011.md").read_text(encoding="utf-8"))
    checked = 0
    for row in observed.incidents.itertuples():
        cited = [k.strip() for k in row.sources.split(";") if k.strip().startswith("S")]
        texts = [normalise_space(observed.source_text(k)) for k in cited]
        assert quotes(row.evidence), f"{row.id} has no evidence"
        for quote in quotes(row.evidence):
            if quote.startswith("domain: "):
                assert normalise_space(quote.removeprefix("domain: ")) in domain, (row.id, quote)
            else:
                assert any(normalise_space(quote) in text for text in texts), (row.id, quote, cited)
            checked += 1
    assert checked >= len(observed.incidents)


def test_policy_event_quotes_are_verbatim(observed: ObservedData) -> None:
    domain = normalise_space((observed.seeds_dir / "reference" / "domain-2011.md").read_text(encoding="utf-8"))
    for row in observed.policy_events.itertuples():
        cited = [k.strip() for k in row.sources.split(";") if k.strip().startswith("S")]
        texts = [normalise_space(observed.source_text(k)) for k in cited]
        for quote in quotes(row.evidence):
            if quote.startswith("domain: "):
                assert normalise_space(quote.removeprefix("domain: ")) in domain, (row.id, quote)
            else:
                assert any(normalise_space(quote) in text for text in texts), (row.id, quote)


def stated_toll_of_9_november(observed: ObservedData) -> tuple[int, int]:
    """The running toll as the EurasiaNet article states it, read from its text."""
    text = normalise_space(observed.source_text("S2"))
    match = re.search(r"death toll so far is at least (\d+), .*?—(\w+) law-enforcement officers", text)
    assert match, "S2 no longer states its toll"
    return int(match.group(1)), NUMBER_WORDS[match.group(2)]


def test_rows_reproduce_the_toll_of_at_least_22_as_of_9_november(observed: ObservedData) -> None:
    total, security = stated_toll_of_9_november(observed)
    rows = observed.seed_incidents[observed.seed_incidents["date"] <= pd.Timestamp("2011-11-09")]
    assert int(rows[list(DEATH_COLUMNS)].to_numpy().sum()) == total
    assert int(rows["deaths_security"].sum()) == security


def test_rows_reproduce_the_toll_after_the_december_raid(observed: ObservedData) -> None:
    seed_text = normalise_space(observed.source_text("S3"))
    more_than = int(re.search(r"more than (\d+) people have been killed this year", seed_text).group(1))
    domain = normalise_space((observed.seeds_dir / "reference" / "domain-2011.md").read_text(encoding="utf-8"))
    after_raid = re.search(r'"(\d+), including (\d+) members of law-enforcement bodies"', domain)
    year_end = int(re.search(r"gives (\d+) by year end", domain).group(1))

    raid = observed.seed_incidents[observed.seed_incidents["place"].str.contains("Boraldai")]
    assert len(raid) == 1
    upto_raid = observed.seed_incidents[observed.seed_incidents["date"] <= raid["date"].iloc[0]]
    deaths = int(upto_raid[list(DEATH_COLUMNS)].to_numpy().sum())
    assert deaths > more_than
    assert deaths == int(after_raid.group(1))
    assert int(upto_raid["deaths_security"].sum()) == int(after_raid.group(2))
    # The domain notes' year-end figure adds the deaths of domain-only incidents after the raid.
    incidents = observed.incidents
    later = incidents[(~incidents["seed_documented"]) & (incidents["date"] > raid["date"].iloc[0])]
    seed_year = int(totals(observed.seed_incidents)["deaths_total"])
    assert seed_year + int(later[list(DEATH_COLUMNS)].to_numpy().sum()) == year_end


def test_regions_dates_and_counts_are_valid(observed: ObservedData) -> None:
    incidents = observed.incidents
    assert set(incidents["region"]) <= set(observed.regions["region"])
    assert incidents["date"].dt.year.eq(2011).all()
    assert (incidents[list(COUNT_COLUMNS)] >= 0).all().all()
    assert set(incidents["kind"]) <= set(KINDS)
    assert set(incidents["initiator"]) <= set(INITIATORS)
    assert len(observed.regions) == 16
    assert incidents["seed_documented"].any() and (~incidents["seed_documented"]).any()


def test_seed_incidents_exclude_domain_only_rows(observed: ObservedData) -> None:
    domain_only = observed.incidents[~observed.incidents["seed_documented"]]
    for keys in domain_only["sources"]:
        assert all(k.strip().startswith("K-") for k in keys.split(";"))
    assert len(observed.seed_incidents) + len(domain_only) == len(observed.incidents)


def test_every_source_file_is_catalogued(observed: ObservedData) -> None:
    files = {p.name for p in (observed.seeds_dir / "sources").glob("*.txt")}
    assert files == {Path(f).name for f in observed.sources["file"]}


def rewrite(path: Path, line: int, column: str, value: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    rows[line - 2][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("date", "2011-02-30", "date"),
        ("date", "2012-03-01", "2011"),
        ("region", "Narnia Region", "unknown region"),
        ("deaths_civilian", "-1", "greater than or equal to 0"),
        ("kind", "riot", "kind"),
    ],
)
def test_malformed_incident_names_file_line_and_column(
    seeds_copy: Path, column: str, value: str, expected: str
) -> None:
    path = seeds_copy / "incidents.csv"
    rewrite(path, 3, column, value)
    with pytest.raises(DataError) as caught:
        ObservedData(seeds_copy).validate()
    error = caught.value
    assert (error.path, error.line, error.column) == (path, 3, column)
    assert expected in str(error)


def test_missing_column_is_named(seeds_copy: Path) -> None:
    path = seeds_copy / "incidents.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["arrests"])
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="arrests") as caught:
        ObservedData(seeds_copy).validate()
    assert caught.value.path == path


def test_cli_reports_bad_data_with_status_2_and_no_traceback(seeds_copy: Path, tmp_path: Path) -> None:
    rewrite(seeds_copy / "incidents.csv", 4, "deaths_militant", "-3")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["data", "--seeds", str(seeds_copy), "--out", str(out)])
    assert result.exit_code == 2
    assert "incidents.csv" in result.output and "line 4" in result.output and "deaths_militant" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_prints_and_writes_the_observed_series(observed: ObservedData, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["data", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Monthly series" in result.output and "Boraldai" in result.output
    monthly = pd.read_csv(tmp_path / "observed_monthly.csv")
    assert len(monthly) == 12
    assert monthly["deaths_total"].sum() == totals(observed.incidents)["deaths_total"]
    written = pd.read_csv(tmp_path / "observed_incidents.csv")
    assert list(written["id"]) == list(observed.incidents["id"])


event_rows = st.fixed_dictionaries(
    {
        "date": st.dates(dt.date(2010, 12, 1), dt.date(2012, 1, 31)),
        "kind": st.sampled_from(sorted(KINDS)),
        "initiator": st.sampled_from(INITIATORS),
        "region": st.sampled_from(["Aktobe Region", "Almaty City"]),
        **{c: st.integers(0, 50) for c in COUNT_COLUMNS},
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(event_rows, max_size=40))
def test_monthly_series_conserves_counts_and_deaths(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows, columns=["date", "kind", "initiator", "region", *COUNT_COLUMNS])
    for column in ("id", "date_precision", "place", "sources", "evidence", "notes"):
        frame[column] = ""
    events = normalise_events(frame)
    monthly = monthly_series(events)
    in_2011 = events[events["date"].dt.year == 2011]
    assert len(monthly) == 12
    assert monthly["incidents"].sum() == len(in_2011)
    assert monthly[[f"by_initiator_{i}" for i in INITIATORS]].sum().sum() == len(in_2011)
    assert monthly["deaths_total"].sum() == in_2011[list(DEATH_COLUMNS)].to_numpy().sum()
    assert (monthly >= 0).all().all()
