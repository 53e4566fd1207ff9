"""Variance attribution of counterfactual effects (sim.attribution)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.attribution import MIN_PAIRS, REMAINDER, pair_attribution, variance_shares
from sim.parameters import PARAMETERS


def _design(n: int, k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.random((n, k)), columns=[f"p{i}" for i in range(k)])


def test_the_parameters_an_effect_depends_on_get_their_share():
    x = _design(200, 30, 1)
    rng = np.random.default_rng(2)
    y = 3 * x["p0"] + 3 * x["p1"] ** 2 + rng.normal(0, 0.5, len(x))  # shares about 0.42 and 0.44
    shares = variance_shares(x, y.to_numpy())
    assert list(shares)[:2] in (["p0", "p1"], ["p1", "p0"])
    assert shares["p0"] == pytest.approx(0.42, abs=0.12) and shares["p1"] == pytest.approx(0.44, abs=0.12)
    assert sum(v for k, v in shares.items() if k not in ("p0", "p1", REMAINDER)) < 0.1
    assert sum(shares.values()) == pytest.approx(1.0)


def test_an_effect_that_depends_on_no_parameter_is_all_remainder():
    x = _design(150, 40, 3)
    shares = variance_shares(x, np.random.default_rng(4).normal(size=len(x)))
    assert shares[REMAINDER] > 0.8


def test_too_few_pairs_constant_parameters_or_effects_give_no_attribution():
    x = _design(MIN_PAIRS - 1, 5, 5)
    assert variance_shares(x, np.arange(len(x), dtype=float)) == {}
    x = _design(100, 5, 6)
    assert variance_shares(x, np.ones(len(x))) == {}
    assert variance_shares(x.assign(**dict.fromkeys(x, 1.0)), np.arange(100.0)) == {}


def test_pair_attribution_pairs_runs_by_seed_and_uses_the_baseline_draw():
    x = _design(120, 4, 7)
    seeds = np.arange(120)
    index = pd.MultiIndex.from_product([["base", "cf"], seeds], names=["scenario", "seed"])
    effect = 5 * x["p2"].to_numpy()
    outcomes = pd.DataFrame({"attacks": np.concatenate([np.ones(120), 1 + effect])}, index=index)
    parameters = pd.DataFrame(np.vstack([x.to_numpy(), x.to_numpy()]), index=index, columns=x.columns)
    shares = pair_attribution(outcomes, parameters, "base", "cf", "attacks")
    assert next(iter(shares)) == "p2" and shares["p2"] > 0.8


def test_compare_reports_effects_under_the_prior_and_their_attribution(tmp_path):
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from sim.cli.main import app

    repo = Path(__file__).resolve().parent.parent
    quick = '[period]\nstart = 2011-01-01\nend = 2011-04-30\n[scale]\npeople_per_agent = 20000\ncell_degrees = 1.0\n'
    (tmp_path / "base.toml").write_text(f'extends = "{repo / "scenarios" / "baseline_2011.toml"}"\nname = "base"\n'
                                        + quick)
    (tmp_path / "nosweeps.toml").write_text('extends = "base.toml"\nname = "nosweeps"\n[levers.sweeps]\n'
                                            'enabled = false\n')
    out, report = tmp_path / "b", tmp_path / "r.md"
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "base.toml"), str(tmp_path / "nosweeps.toml"),
                                      "--replicates", str(MIN_PAIRS + 10), "--out", str(out), "--report",
                                      str(report)], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Where the effects against base come from" in text and "under the prior" in text
    assert json.loads((tmp_path / "b-prior" / "manifest.json").read_text())["parameters"]["mode"] == "prior"
    record = json.loads((out / "runs" / "scenario=base" / "seed=2011.json").read_text())
    assert set(record["draw"]) == {p.name for p in PARAMETERS}  # every parameter drawn, none a silent default
    markdown = report.read_text()
    assert "Effect under the prior" in markdown and "Which parameters the effects depend on" in markdown
