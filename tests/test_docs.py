"""docs/ODD.md stays in step with the code: parameters, levers, daily columns and the daily schedule."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path

import pytest

from sim.model import DAILY_COLUMNS, KazakhstanModel
from sim.parameters import PARAMETERS, markdown_table
from sim.scenario import Levers

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"


@pytest.fixture(scope="module")
def odd() -> str:
    return ODD.read_text(encoding="utf-8")


def lever_fields() -> list[tuple[str, object]]:
    """Every ``family.field`` of ``Levers`` with its default."""
    return [
        (f"{family}.{name}", field.default)
        for family, lever in Levers.model_fields.items()
        for name, field in lever.annotation.model_fields.items()
    ]


def shown(value: object) -> str:
    """How the lever table writes a default."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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


def test_every_lever_field_is_documented_with_its_default(odd: str) -> None:
    fields = lever_fields()
    assert len(fields) > len(Levers.model_fields) * 4
    for dotted, default in fields:
        rows = [line for line in odd.splitlines() if line.startswith(f"| `{dotted}` |")]
        assert len(rows) == 1, f"lever field {dotted} missing from the lever table of ODD.md"
        cell = rows[0].split("|")[2].strip()
        assert cell == shown(default), f"{dotted}: ODD.md says {cell!r}, the code's default is {shown(default)!r}"


def test_every_daily_column_is_documented(odd: str) -> None:
    missing = [column for column in DAILY_COLUMNS if f"| `{column}` |" not in odd]
    assert not missing, f"daily columns missing from ODD.md: {missing}"


def test_schedule_follows_the_step_method(odd: str) -> None:
    calls = re.findall(r"self\.(_[a-z_]+)\(", inspect.getsource(KazakhstanModel.step))
    assert calls == ["_apply_levers", "_civilians_decide", "_cells_act", "_police_investigate", "_sweep", "_record"]
    schedule = section(odd, "## 3. Process overview and scheduling")
    positions = [schedule.find(f"`{name}`") for name in calls]
    assert all(p >= 0 for p in positions), dict(zip(calls, positions, strict=True))
    assert positions == sorted(positions), f"ODD.md §3 names the steps out of order: {calls} at {positions}"
