"""The docs stay in step with the code: ODD (parameters, levers, columns, schedule), outcomes, calibration, cluster."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from sim.levers import REGISTRY, lever_table
from sim.model import DAILY_COLUMNS, KazakhstanModel
from sim.outcomes import OUTCOMES
from sim.outcomes import markdown as outcomes_markdown
from sim.parameters import PARAMETERS, markdown_table

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
OUTCOMES_MD = ODD.parent / "outcomes.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"
LEVERS_START, LEVERS_END = "<!-- levers:start -->", "<!-- levers:end -->"


@pytest.fixture(scope="module")
def odd() -> str:
    return ODD.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text of a ``## `` section, up to the next one."""
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start : following if following >= 0 else len(text)]


def test_parameter_table_is_the_generated_one(odd: str) -> None:
    assert odd.count(START) == 1 and odd.count(END) == 1
    between = odd[odd.index(START) + len(START) : odd.index(END)]
    assert between.strip("\n") + "\n" == markdown_table(), "regenerate with sim.parameters.markdown_table()"


def test_generated_table_has_one_row_per_parameter() -> None:
    rows = markdown_table().splitlines()[2:]
    assert [row.split("|")[1].strip().strip("`") for row in rows] == [p.name for p in PARAMETERS]


def test_lever_table_is_the_generated_one(odd: str) -> None:
    assert odd.count(LEVERS_START) == 1 and odd.count(LEVERS_END) == 1
    between = odd[odd.index(LEVERS_START) + len(LEVERS_START) : odd.index(LEVERS_END)]
    assert between.strip("\n") + "\n" == lever_table(), "regenerate with sim.levers.lever_table()"
    rows = lever_table().splitlines()[2:]
    fields = [f"{name}.{field}" for name, family in REGISTRY.items() for field in family.settings.model_fields]
    assert [row.split("|")[1].strip().strip("`") for row in rows] == fields


def test_every_daily_column_is_documented(odd: str) -> None:
    missing = [column for column in DAILY_COLUMNS if f"| `{column}` |" not in odd]
    assert not missing, f"daily columns missing from ODD.md: {missing}"


def test_schedule_follows_the_step_method(odd: str) -> None:
    calls = re.findall(r"([a-z_]+)\(", inspect.getsource(KazakhstanModel.step).split('"""', 2)[2])
    steps = [name for name in calls if name in ("_apply_levers", "civilians_decide", "militants_act", "police_act",
                                                  "_record")]
    assert steps == ["_apply_levers", "civilians_decide", "militants_act", "police_act", "_record"]
    schedule = section(odd, "## 3. Process overview and scheduling")
    positions = [schedule.find(f"`{name}`") for name in steps]
    assert all(p >= 0 for p in positions), dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), f"ODD.md §3 names the steps out of order: {steps} at {positions}"


def test_outcomes_page_is_the_generated_one() -> None:
    assert OUTCOMES_MD.read_text(encoding="utf-8") == outcomes_markdown(), (
        "regenerate with `uv run python -m sim.outcomes > docs/outcomes.md`")


def test_every_outcome_has_a_unit_and_a_reason_when_it_has_no_direction() -> None:
    for outcome in OUTCOMES:
        assert outcome.unit and outcome.label and outcome.short, outcome.name
        assert (outcome.worse_if_higher is None) == bool(outcome.no_direction), outcome.name


def test_calibration_results_are_the_generated_ones() -> None:
    from calibration.report import DOC_BLOCKS, update_docs

    root = ODD.parent.parent
    text = (root / "docs" / "calibration.md").read_text(encoding="utf-8")
    for name in DOC_BLOCKS:
        assert f"<!-- results:{name}:start -->" in text and f"<!-- results:{name}:end -->" in text, name
    assert text == update_docs(root=root), "regenerate with `uv run python -m calibration.report`"


def test_calibration_results_report_every_predictive_mid_p() -> None:
    import json

    from calibration.report import DOC_BLOCKS, results_markdown

    for name, (summary_path, _) in DOC_BLOCKS.items():
        summary = json.loads((ODD.parent.parent / summary_path).read_text(encoding="utf-8"))
        if name == "sensitivity":
            continue
        rows = summary["posterior_predictive"]["table"]
        assert {row["statistic"] for row in rows} >= set(summary["targets"]), name
        block = results_markdown(summary)
        assert all(f"`{row['statistic']}`" in block and f"{row['mid_p']:.3f}" in block for row in rows), name
        # The must-hold of the calibration: every fitted and held-out statistic has 0.05 <= mid-p <= 0.95.
        assert all(0.05 <= row["mid_p"] <= 0.95 for row in rows), [(r["statistic"], r["mid_p"]) for r in rows]


def test_cluster_guide_gives_the_loopback_clusters_dask_settings() -> None:
    """The configuration file docs/cluster.md offers for clusters started by hand is kazsim's own cluster's."""
    import yaml

    from sim.cluster import CLUSTER_SETTINGS

    guide = (ODD.parent / "cluster.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", guide, re.DOTALL)
    assert block is not None, "docs/cluster.md lost its Dask configuration file"

    def flat(tree: dict, prefix: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in tree.items():
            out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
        return out

    assert flat(yaml.safe_load(block.group(1))) == CLUSTER_SETTINGS
