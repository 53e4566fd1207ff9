"""Hostile input: every scenario file, override and data file either runs or ends in one clear error.

A clear error is a ``KazsimInputError`` (exit status 2 from the CLI) whose message names the file
and, where there is one, the field, is printed literally (never as Rich markup), and leaves nothing
written. The first tests are property-based (random structure and bytes); the rest pin one
defect class each.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import math
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli.main import app
from sim.errors import KazsimInputError
from sim.parameters import PARAMETERS
from sim.run import simulate
from sim.scenario import MAX_DAYS, MAX_EXTENDS_DEPTH, SCENARIOS_DIR, Scenario, ScenarioError, load_scenario

BASELINE = SCENARIOS_DIR / "baseline_2011.toml"
QUICK = ["scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


# --- a TOML writer for generated trees (tests only; the project reads TOML, never writes it) ---

def toml_value(value: Any) -> str:
    """A value as TOML inline syntax."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() < 4000 else "1" + "0" * 4400
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest as is."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c for c in text)
    return f'"{escaped}"'


def toml_document(tree: dict[str, Any]) -> str:
    return "".join(f"{toml_string(str(key))} = {toml_value(value)}\n" for key, value in tree.items())


KNOWN_KEYS = ["name", "seed", "model", "description", "period", "scale", "parameters", "levers", "epstein", "start",
              "end", "people_per_agent", "cell_degrees", "religion_law", "raids", "sweeps", "patrols", "informants",
              "enabled", "regions", "size", "precision", "scope", "width", "height", "extends", "posterior",
              *(p.name for p in PARAMETERS[:12])]
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)  # TOML cannot hold surrogates
keys = st.one_of(st.sampled_from(KNOWN_KEYS), texts.filter(bool))
scalars = st.one_of(
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), texts, st.sampled_from(["[/]", "[bold red]x", "2011", "0.3", "no", "true"]),
    st.dates(), st.datetimes(), st.times(),
)
trees = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=4),
                                                         st.dictionaries(keys, children, max_size=5)), max_leaves=25)
documents = st.dictionaries(keys, trees, max_size=8)


def _baseline_tree() -> dict[str, Any]:
    import tomllib

    tree = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
    tree.pop("posterior")
    tree["scale"]["people_per_agent"] = 20000
    return tree


@st.composite
def perturbed_baselines(draw) -> dict[str, Any]:
    """The baseline with some leaves replaced, deleted or added: structure that reaches deep validation."""
    tree = copy.deepcopy(_baseline_tree())
    for _ in range(draw(st.integers(1, 4))):
        node = tree
        while True:
            children = [k for k, v in node.items() if isinstance(v, dict)]
            if not children or draw(st.booleans()):
                break
            node = node[draw(st.sampled_from(sorted(children)))]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        key = draw(st.sampled_from(sorted(node))) if node and action != "add" else draw(keys)
        if action == "delete":
            node.pop(key, None)
        else:
            node[key] = draw(trees)
    return tree


def outcome_of(path: Path, overrides: list[str] | None = None) -> Scenario | ScenarioError:
    """The scenario, or the clear error; anything else fails the test."""
    try:
        return load_scenario(path, overrides=overrides)
    except ScenarioError as error:
        event("refused: " + (error.field or "file").split(".")[0])
        assert str(path.name) in str(error) or "extends" in str(error), str(error)
        assert "Traceback" not in str(error)
        return error


def short_run(scenario: Scenario) -> None:
    """A validated scenario runs (a few days, at a coarse scale when it asks for a very fine one)."""
    event("validated: runs")
    if scenario.model == "national" and scenario.scale.people_per_agent < 5000:
        scenario = scenario.model_copy(update={"scale": scenario.scale.model_copy(update={"people_per_agent": 5000})})
    simulate(scenario, days=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.one_of(documents, perturbed_baselines()))
def test_generated_scenario_structures_run_or_fail_clearly(tree: dict[str, Any], tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.toml"
    path.write_text(toml_document(tree), encoding="utf-8")
    result = outcome_of(path)
    if isinstance(result, Scenario):
        short_run(result)


mutations = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 3000), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.integers(0, 3000), st.just(b"")),
    st.tuples(st.just("encode"), st.sampled_from(["utf-16", "utf-32", "latin-1", "utf-8-sig"]), st.just(b"")),
    st.tuples(st.just("replace"), st.just(0), st.binary(max_size=200)),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations)
def test_mutated_scenario_bytes_run_or_fail_clearly(mutation, tmp_path_factory) -> None:
    kind, where, payload = mutation
    text = BASELINE.read_text(encoding="utf-8").replace('"../calibration/', f'"{SCENARIOS_DIR.parent}/calibration/')
    data = text.encode("utf-8")
    if kind == "insert":
        data = data[:where] + payload + data[where:]
    elif kind == "truncate":
        data = data[:where]
    elif kind == "encode":
        data = text.replace("Kazakhstan,", "Kazakhstan (Qazaqstan, café),").encode(where)
    else:
        data = payload
    path = tmp_path_factory.mktemp("bytes") / "mutated.toml"
    path.write_bytes(data)
    result = outcome_of(path, overrides=QUICK)
    if isinstance(result, Scenario):
        short_run(result)


override_keys = st.one_of(
    st.sampled_from(["legitimacy", "seed", "levers.sweeps.enabled", "period.start", "scale.people_per_agent",
                     "levers.religion_law.scope", "levers.patrols.regions", "epstein.width", "name", "x.y.z"]),
    texts,
)
override_values = st.one_of(texts, scalars.map(toml_value),
                            st.sampled_from(["[/]", "[", "{a = 1}", "[[[[[[[[[[1]]]]]]]]]]", "1e999", "0x10", "'"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.tuples(override_keys, st.sampled_from(["=", " = ", ""]), override_values), max_size=4))
def test_generated_overrides_run_or_fail_clearly(items) -> None:
    overrides = [f"{key}{sep}{value}" for key, sep, value in items]
    result = outcome_of(BASELINE, overrides=[*QUICK, *overrides])
    if isinstance(result, Scenario):
        short_run(result)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=documents)
def test_cli_run_on_generated_files_exits_0_or_2_and_writes_nothing_on_error(tree, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "fuzz.toml"
    path.write_text(toml_document(tree), encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--days", "3", "--out", str(out), "--set",
                                      "scale.people_per_agent=20000"])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("error: ") and not out.exists()


# --- one test per defect class --------------------------------------------------------------------

def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def expect_error(result, *fragments: str) -> str:
    message = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF16_LE + 'name = "x"'.encode("utf-16-le"), "UTF-16"),
        (codecs.BOM_UTF32_LE + 'name = "x"'.encode("utf-32-le"), "UTF-32"),
        (b'name = "caf\xe9"\n', "not UTF-8"),
        (b"\x00\x01\x02\x03", "binary"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary"),
    ],
)
def test_unreadable_bytes_are_named_as_such(data: bytes, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    expect_error(cli("run", str(path), "--out", str(tmp_path / "o")), str(path), expected)
    child = tmp_path / "child.toml"
    child.write_text('extends = "bad.toml"\nname = "child"\n')
    message = expect_error(cli("run", str(child), "--out", str(tmp_path / "o")), str(child), "extends", expected)
    assert str(path) in message  # the parent at fault, reached through the child's extends
    assert not (tmp_path / "o").exists()


def test_a_bad_value_inherited_through_extends_names_the_file_it_is_written_in(tmp_path: Path) -> None:
    (tmp_path / "parent.toml").write_text('name = "parent"\n[parameters]\nlegitimacy = "x"\nvision = 3\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\nname = "child"\n[levers.sweeps]\nenabled = "no"\n')
    expect_error(cli("run", str(child)), str(child), "parameters.legitimacy", f"set in {tmp_path / 'parent.toml'}",
                 "which child.toml extends", "expected a number (got 'x')")
    child.write_text('extends = "parent.toml"\nname = "child"\n[parameters]\nlegitimacy = 0.5\nvision = 2.5\n')
    message = expect_error(cli("run", str(child)), str(child), "parameters.vision", "whole number")
    assert "parent.toml" not in message, "the child's own value is the child's"
    # the first child inherits legitimacy = "x": an override of it is named, not the parent that also writes it
    child.write_text('extends = "parent.toml"\nname = "child"\n[levers.sweeps]\nenabled = true\n')
    message = expect_error(cli("run", str(child), "--set", "legitimacy=y"), "--set 'legitimacy=y'")
    assert "parent.toml" not in message


def test_an_error_over_a_whole_table_names_a_parent_only_when_the_parent_alone_writes_it(tmp_path: Path) -> None:
    from sim.scenario import ScenarioError, load_scenario

    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline_2011.toml"
    (tmp_path / "parent.toml").write_text(f'extends = "{baseline}"\nname = "parent"\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\nname = "child"\n[period]\nend = 2010-06-01\n')
    with pytest.raises(ScenarioError) as caught:  # end before start: the child's own value breaks the table
        load_scenario(child)
    assert "field 'period'" in str(caught.value) and "extends" not in str(caught.value), str(caught.value)
    (tmp_path / "parent.toml").write_text(f'extends = "{baseline}"\nname = "parent"\n[period]\n'
                                          'start = 2011-06-01\nend = 2011-01-01\n')
    child.write_text('extends = "parent.toml"\nname = "child"\n')
    with pytest.raises(ScenarioError) as caught:  # the whole period table is the parent's
        load_scenario(child)
    assert f"set in {tmp_path / 'parent.toml'}, which child.toml extends" in str(caught.value), str(caught.value)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(codecs.BOM_UTF8 + f'extends = "{BASELINE}"\nname = "bom"\n'.encode())
    assert load_scenario(path).name == "bom"


def test_deep_nesting_long_chains_and_huge_integers(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text('name = "deep"\nx = ' + "[" * 3000 + "]" * 3000 + "\n")
    expect_error(cli("run", str(deep)), str(deep), "nested more than")
    huge = tmp_path / "huge.toml"
    huge.write_text('name = "huge"\nseed = 1' + "0" * 5000 + "\n")
    expect_error(cli("run", str(huge)), str(huge), "4,300 digits")
    wide = tmp_path / "wide.toml"
    wide.write_text('name = "wide"\nseed = 1' + "0" * 30 + "\n")
    expect_error(cli("run", str(wide)), str(wide), "seed", "64-bit")
    previous = BASELINE
    for index in range(MAX_EXTENDS_DEPTH + 2):
        link = tmp_path / f"link{index}.toml"
        link.write_text(f'extends = "{previous}"\nname = "link{index}"\n')
        previous = link
    expect_error(cli("run", str(previous)), "extends", f"more than {MAX_EXTENDS_DEPTH} files")
    loop = tmp_path / "loop.toml"
    loop.write_text('extends = "loop.toml"\nname = "loop"\n')
    expect_error(cli("run", str(loop)), str(loop), "cycle")


def test_error_text_is_printed_literally_never_as_markup(tmp_path: Path) -> None:
    message = expect_error(cli("run", "baseline_2011", "--set", "legitimacy=[/]"), "parameters.legitimacy",
                           "--set 'legitimacy=[/]'", "expected a number", "'[/]'")
    assert message.startswith("error: ")
    path = tmp_path / "markup.toml"
    path.write_text('name = "markup"\nseed = "[bold red]x"\n')
    expect_error(cli("run", str(path)), "'[bold red]x'", "seed", "whole number")


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ('seed = "2011"', "seed", "expected a whole number (got '2011')"),
        ("seed = true", "seed", "expected a whole number (got True)"),
        ("seed = 2011.0", "seed", "expected a whole number"),
        ('[parameters]\nlethal_attack_share = "0.3"', "parameters.lethal_attack_share",
         "expected a number (got '0.3')"),
        ("[parameters]\nlegitimacy = true", "parameters.legitimacy", "expected a number (got True)"),
        ('[levers.sweeps]\nenabled = "no"', "levers.sweeps.enabled", "expected true or false (got 'no')"),
        ("[levers.sweeps]\nenabled = 0", "levers.sweeps.enabled", "expected true or false"),
        ("[period]\nstart = 0", "period.start", "expected a date"),
        ("[period]\nstart = 2011-01-01T10:00:00", "period.start", "date"),
        ("[parameters]\nvision = 1.5", "parameters.vision", "whole number"),
    ],
)
def test_no_lax_coercion(text: str, field: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "lax.toml"
    path.write_text(f'name = "lax"\n{text}\n')
    expect_error(cli("run", str(path), "--out", str(tmp_path / "o")), str(path), field, expected)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[scale]\npeople_per_agent = 1", "scale.people_per_agent"),
        ("[scale]\npeople_per_agent = 1000000000000000", "scale.people_per_agent"),
        ("[scale]\npeople_per_agent = 1e15", "scale.people_per_agent"),
        ("[scale]\ncell_degrees = 0.01", "scale.cell_degrees"),
        ("[scale]\ncell_degrees = 4.0", "scale.cell_degrees"),
        ("[epstein]\nwidth = 1000000\nheight = 1000000", "epstein.width"),
        ("[levers.religion_law]\nscope = inf", "levers.religion_law.scope"),
        ("[levers.raids]\nintel_threshold = nan", "levers.raids.intel_threshold"),
        ("[levers.sweeps]\nsize = 1000000000", "levers.sweeps.size"),
        ("[parameters]\ncell_formation_rate = 1e300", "parameters.cell_formation_rate"),
        ("[period]\nstart = 0001-01-01\nend = 9999-12-31", "period.start"),
        ("[period]\nstart = 2001-01-01\nend = 2029-12-31", "period"),
        ('name = "' + "n" * 300 + '"', "name"),
    ],
)
def test_absurd_sizes_and_infinities_are_refused(text: str, field: str, tmp_path: Path) -> None:
    path = tmp_path / "absurd.toml"
    path.write_text(text if text.startswith("name") else f'name = "absurd"\n{text}\n')
    expect_error(cli("run", str(path), "--out", str(tmp_path / "o")), str(path), field)
    assert not (tmp_path / "o").exists()


def test_every_allowed_grid_gives_each_region_a_cell() -> None:
    """Cells coarser than the bound let two centres share a cell and a region vanish (the run then crashed)."""
    from sim.geography import build_layout
    from sim.scenario import MAX_CELL_DEGREES

    for hundredths in range(100, round(MAX_CELL_DEGREES * 100) + 1):
        layout = build_layout(hundredths / 100)
        assert (np.bincount(layout.cell_region, minlength=len(layout.regions)) > 0).all(), hundredths / 100
    assert load_scenario(BASELINE, [f"scale.cell_degrees={MAX_CELL_DEGREES}"]).scale.cell_degrees == MAX_CELL_DEGREES


def test_command_line_sizes_are_bounded(tmp_path: Path) -> None:
    result = cli("run", "baseline_2011", "--days", "1000000000", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and str(MAX_DAYS) in result.output
    expect_error(cli("run", "baseline_2011", "--seed", str(2**40), "--out", str(tmp_path / "o")), "--seed", "seed")
    assert not (tmp_path / "o").exists()


def test_overrides_name_their_field_and_themselves() -> None:
    expect_error(cli("run", "baseline_2011", "--set", "levers.sweeps.size=many"), "levers.sweeps.size",
                 "--set 'levers.sweeps.size=many'", "whole number")
    expect_error(cli("run", "baseline_2011", "--set", "levers.swepes.size=3"), "levers.swepes", "unknown key",
                 "did you mean 'sweeps'?")
    expect_error(cli("run", "baseline_2011", "--set", "a..b=1"), "dotted key")
    expect_error(cli("run", "baseline_2011", "--set", "novalue"), "key=value")
    expect_error(cli("run", "baseline_2011", "--set", "seed.x=1"), "seed", "not a table")


def test_seed_data_files_are_read_safely(seeds_copy: Path, tmp_path: Path) -> None:
    regions = seeds_copy / "regions.csv"
    original = regions.read_text(encoding="utf-8")
    regions.write_bytes(codecs.BOM_UTF16_LE + original.encode("utf-16-le"))
    expect_error(cli("data", "--seeds", str(seeds_copy)), "regions.csv", "UTF-16")
    regions.write_bytes(original.encode("utf-8")[:200] + b"\xff\xfe" + original.encode("utf-8")[200:])
    expect_error(cli("data", "--seeds", str(seeds_copy)), "regions.csv", "not UTF-8")
    incidents = seeds_copy / "incidents.csv"
    lines = incidents.read_text(encoding="utf-8").splitlines()
    incidents.write_text("\n".join([lines[0], '"' + "x" * 200_000 + '"', *lines[1:]]) + "\n", encoding="utf-8")
    regions.write_text(original, encoding="utf-8")
    expect_error(cli("data", "--seeds", str(seeds_copy)), "incidents.csv")
    (seeds_copy / "region_boundaries.geojson").write_text("[1, 2, 3]")
    incidents.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from sim.data import ObservedData

    with pytest.raises(KazsimInputError, match="FeatureCollection"):
        ObservedData(seeds_copy).boundaries  # noqa: B018 - the property reads and validates the file


def test_run_does_not_silently_overwrite_an_earlier_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "baseline_2011", "--days", "3", "--out", str(out), *(f"--set={o}" for o in QUICK)]
    assert cli(*args).exit_code == 0
    first = (out / "run.json").read_bytes()
    expect_error(cli(*args), str(out), "already holds a run", "--overwrite")
    assert (out / "run.json").read_bytes() == first
    assert cli(*args, "--overwrite").exit_code == 0
    afile = tmp_path / "afile"
    afile.write_text("x")
    expect_error(cli("run", "baseline_2011", "--days", "3", "--out", str(afile)), "is a file")
    nested = str(afile / "run")
    quick = [f"--set={o}" for o in QUICK]
    expect_error(cli("run", "baseline_2011", "--days", "3", "--out", nested, *quick), str(afile))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_output_folder_is_an_input_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        expect_error(cli("run", "baseline_2011", "--days", "3", "--out", str(locked / "run"), *(f"--set={o}" for o in
                                                                                               QUICK)), "locked")
    finally:
        locked.chmod(stat.S_IRWXU)


def test_run_outputs_respect_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        assert cli("run", "baseline_2011", "--days", "3", "--out", str(tmp_path / "r"),
                   *(f"--set={o}" for o in QUICK)).exit_code == 0
    finally:
        os.umask(previous)
    for name in ("events.csv", "daily.csv", "run.json"):
        assert stat.S_IMODE((tmp_path / "r" / name).stat().st_mode) == 0o644


def test_report_suffix_picks_the_format_or_is_refused(tmp_path: Path) -> None:
    expect_error(cli("compare", str(tmp_path), "--report", str(tmp_path / "r.pdf")), "r.pdf", ".html", ".md")


def test_calibration_commands_refuse_bad_options(tmp_path: Path) -> None:
    expect_error(cli("calibrate", "--max-walltime", "nan"), "--max-walltime")
    expect_error(cli("calibrate", "--free", "no_such_parameter"), "--free", "no_such_parameter")
    for free, problem in ((",", "separated by commas"), ("legitimacy,,vision", "separated by commas"),
                          ("legitimacy,legitimacy", "more than once")):
        # Once a calibration of no parameter (or of one twice) that crashed plotting, its files written.
        expect_error(cli("calibrate", "--free", free, "--population", "2", "--generations", "1", "--out",
                         str(tmp_path / "cal")), f"--free {free!r}", problem)
        assert not (tmp_path / "cal").exists()
    targets = tmp_path / "targets.json"
    targets.write_bytes(codecs.BOM_UTF16_LE + "{}".encode("utf-16-le"))
    expect_error(cli("calibrate", "--targets", str(targets), "--db", str(tmp_path / "db")), "targets.json", "UTF-16")
    assert not (tmp_path / "db").exists()
    posterior = tmp_path / "posterior.csv"
    posterior.write_bytes(b"\x00\x00binary")
    expect_error(cli("calibrate-check", "--posterior", str(posterior), "--prior-sims", "0", "--out", str(tmp_path)),
                 "posterior.csv", "binary")


def test_calibrate_check_refuses_an_unusable_out_before_simulating_and_an_empty_prior_table(tmp_path: Path,
                                                                                            monkeypatch) -> None:
    import pandas as pd

    import calibration.check_workflow as check_workflow

    def no_simulations(*args, **kwargs):
        raise AssertionError("--out is checked before any simulation")

    monkeypatch.setattr(check_workflow, "reference_table", no_simulations)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile, afile / "below"):
        result = cli("calibrate-check", "--prior-sims", "5", "--ppc-sims", "0", "--out", str(out))
        expect_error(result, f"--out {out}")
    assert afile.read_text() == "x"
    empty = pd.DataFrame({"failed": []})  # what reference_table keeps when every draw falls outside the support
    monkeypatch.setattr(check_workflow, "reference_table", lambda *args, **kwargs: empty)
    out = tmp_path / "checks"
    expect_error(cli("calibrate-check", "--prior-sims", "3", "--ppc-sims", "0", "--out", str(out)), "--prior-sims 3",
                 "outside the plausible support")
    assert list(out.iterdir()) == []
