"""What a counterfactual effect depends on: the share of its variance each uncertain parameter explains.

Every paired run of a batch draws its parameters (from the posterior, or the prior) as a function of
its seed, and both scenarios of a pair use the same draw. So each pair gives one effect and the
parameter vector it was simulated with: a given-data sample of the map from parameters to effect.
The first-order share of parameter j is Var(E[effect | theta_j]) / Var(effect), estimated from
that sample with RBD-FAST as SALib implements it for any sample (Plischke 2010; bias-corrected after
Tissot & Prieur 2012). What no single parameter explains (seed-to-seed chance, interactions) is
the remainder. Posterior draws are correlated, so a share includes what the parameter carries of
its correlates: it answers "how much would knowing this parameter narrow the effect".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fourier harmonics RBD-FAST sums (its interference parameter M); 4 keeps the bias small at ~100 pairs.
HARMONICS = 4
#: fewest pairs an attribution is estimated from: below it the estimates are mostly noise.
MIN_PAIRS = 30
#: permutations of the effects that give the noise floor a share must exceed.
PERMUTATIONS = 10
#: a share is reported when it exceeds this quantile of the shares of permuted (unrelated) effects.
NOISE_QUANTILE = 0.99
#: the name under which the unexplained share is reported.
REMAINDER = "remainder (chance, interactions, shares below the noise floor)"


def varying(parameters: pd.DataFrame) -> list[str]:
    """The columns whose value differs between runs (the uncertain parameters of the batch)."""
    return [c for c in parameters.columns if parameters[c].nunique(dropna=True) > 1]


def variance_shares(parameters: pd.DataFrame, effects: np.ndarray, seed: int = 0) -> dict[str, float]:
    """First-order share of the effects' variance per varying parameter, largest first, then the remainder.

    Args:
        parameters: one row per pair, one column per parameter (values the pair was simulated with).
        effects: the pair's effect, aligned with ``parameters``' rows.
        seed: seed of SALib's bootstrap (the shares themselves do not depend on it).

    A parameter's share is kept when it exceeds the noise floor: the ``NOISE_QUANTILE`` of the shares
    every parameter gets for ``PERMUTATIONS`` random permutations of the effects (which depend on no
    parameter); with dozens of parameters and ~100 pairs, the small positive shares of chance would
    otherwise add up to a large spurious total.

    Returns:
        ``{parameter: share}`` for the parameters above the noise floor, and ``REMAINDER``; empty
        when there are fewer than ``MIN_PAIRS`` pairs, no varying parameter or no variance to share.
    """
    from SALib.analyze import rbd_fast

    effects = np.asarray(effects, dtype=float)
    names = varying(parameters)
    if len(effects) < MIN_PAIRS or not names or np.var(effects) == 0:
        return {}
    values = parameters[names].to_numpy(dtype=float)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(v.min()), float(v.max())] for v in values.T]}

    def first_order(y: np.ndarray) -> np.ndarray:
        # SALib's confidence bootstrap may draw a constant resample (0/0): its S1 is NaN and is not used.
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(rbd_fast.analyze(problem, values, y, M=HARMONICS, num_resamples=2, seed=seed)["S1"])

    rng = np.random.default_rng(seed)
    null = np.concatenate([first_order(rng.permutation(effects)) for _ in range(PERMUTATIONS)])
    floor = float(np.quantile(null[np.isfinite(null)], NOISE_QUANTILE))
    shares = {name: float(s) for name, s in zip(names, first_order(effects), strict=True)
              if np.isfinite(s) and s > floor}
    ordered = dict(sorted(shares.items(), key=lambda item: -item[1]))
    ordered[REMAINDER] = max(0.0, 1.0 - sum(ordered.values()))
    return ordered


def pair_attribution(outcomes: pd.DataFrame, parameters: pd.DataFrame, baseline: str, scenario: str,
                     outcome: str, seed: int = 0) -> dict[str, float]:
    """Variance shares of one counterfactual's per-pair effect on one outcome.

    Args:
        outcomes: one row per (scenario, seed), one column per outcome (``sim.outcomes.outcomes_per_run``).
        parameters: the parameter values of each run, indexed the same way (``BatchResult.parameters``).
        baseline, scenario: the pair's two scenarios; a pair's parameters are the baseline run's.
        outcome: the outcome column.
    """
    if parameters.empty:
        return {}
    base = outcomes.xs(baseline, level="scenario")[outcome]
    other = outcomes.xs(scenario, level="scenario")[outcome]
    drawn = parameters.xs(baseline, level="scenario")
    seeds = base.index.intersection(other.index).intersection(drawn.index)
    effects = (other.loc[seeds] - base.loc[seeds]).to_numpy(dtype=float)
    measured = np.isfinite(effects)
    return variance_shares(drawn.loc[seeds[measured]], effects[measured], seed)
