"""Variance attribution of counterfactual effects (sim.attribution)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.attribution import MIN_PAIRS, REMAINDER, pair_attribution, variance_shares


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
