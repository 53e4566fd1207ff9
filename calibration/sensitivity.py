"""Which parameters matter for the targets: a Morris screen over all parameters, Sobol on survivors.

Reduced design (to stay cheap on 2 cores): every parameter varies over its plausible range
(integer parameters rounded), the model runs at the calibration scale (``baseline_2011``, 1,500 people per group)
for the full year, Morris uses ``r`` trajectories on 4 levels (r·(k+1) points), and each point is
simulated with ``replicates`` seeds whose statistics are averaged (common seeds across points).
Elementary effects are computed per target statistic and divided by that statistic's standard
deviation over the design, then averaged over targets: ``score`` = mean normalised mu*.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.simulator import Simulator, run_many
from calibration.targets import TARGETS
from sim.parameters import PARAMETERS


def problem(names: list[str] | None = None) -> dict:
    params = [p for p in PARAMETERS if names is None or p.name in names]
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [list(map(float, p.plausible)) for p in params],
    }


def _evaluate(design: np.ndarray, names: list[str], simulator: Simulator, replicates: int, seed: int,
              workers: int) -> np.ndarray:
    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=replicates)
    params, seed_list = [], []
    for row in design:
        for s in seeds:
            params.append(dict(zip(names, map(float, row), strict=True)))
            seed_list.append(int(s))
    stats = run_many(simulator, params, seed_list, workers)
    values = np.array([[s[t] for t in TARGETS] for s in stats], dtype=float)
    values[values >= 1e5] = np.nan  # failed runs
    return np.nanmean(values.reshape(len(design), replicates, len(TARGETS)), axis=1)


@dataclass
class MorrisResult:
    table: pd.DataFrame  # parameter, score, mu_star_<target>..., sigma_<target>...
    runs: int


def morris_screen(r: int = 6, replicates: int = 2, seed: int = 2011, workers: int = 2,
                  simulator: Simulator | None = None, levels: int = 4) -> MorrisResult:
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    simulator = simulator or Simulator(marginalise=False, constrain=False)
    prob = problem()
    design = morris_sample.sample(prob, N=r, num_levels=levels, seed=seed)
    outputs = _evaluate(design, prob["names"], simulator, replicates, seed, workers)
    table = pd.DataFrame({"parameter": prob["names"]})
    normalised = []
    for j, target in enumerate(TARGETS):
        y = np.nan_to_num(outputs[:, j], nan=np.nanmean(outputs[:, j]))
        res = morris_analyze.analyze(prob, design, y, num_levels=levels, seed=seed)
        sd = float(np.std(y)) or 1.0
        table[f"mu_star_{target}"] = np.asarray(res["mu_star"])
        table[f"sigma_{target}"] = np.asarray(res["sigma"])
        normalised.append(np.asarray(res["mu_star"]) / sd)
    table.insert(1, "score", np.mean(normalised, axis=0))
    table = table.sort_values("score", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return MorrisResult(table, len(design) * replicates)


#: the strengths of the mechanisms the counterfactual questions and the fitted patterns turn on (how strongly
#: people respond to the religion law, how fast a grievance shock or an attack mobilises militants, how much
#: less the west trusts the state): calibrated whatever their global Morris rank, so that the record informs
#: them where it can and the identifiability report says where it cannot.
QUESTION_PARAMETERS: tuple[str, ...] = (
    "law_hardship_effect", "law_legitimacy_effect", "trigger_strength", "contagion_jump_local",
    "legitimacy_gap_west",
)


def choose_free(table: pd.DataFrame, at_most: int = 8, at_least: int = 3, cut: float = 0.25) -> list[str]:
    """The parameters to calibrate: the top of the Morris ranking (at least ``at_least``, at most ``at_most``,
    cut where the score drops below ``cut`` times the top score), then :data:`QUESTION_PARAMETERS`."""
    scores = table["score"].to_numpy()
    keep = max(at_least, min(at_most, int(np.sum(scores >= cut * scores[0]))))
    top = list(table["parameter"].iloc[:keep])
    return [*top, *(name for name in QUESTION_PARAMETERS if name not in top)]


def sobol(names: list[str], n: int = 32, replicates: int = 2, seed: int = 2011, workers: int = 2,
          simulator: Simulator | None = None) -> tuple[pd.DataFrame, int]:
    """First-order and total Sobol indices (Saltelli design, no second order) of each target."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    simulator = simulator or Simulator(constrain=False)
    prob = problem(names)
    design = sobol_sample.sample(prob, n, calc_second_order=False, seed=seed)
    outputs = _evaluate(design, prob["names"], simulator, replicates, seed + 1, workers)
    rows = []
    for j, target in enumerate(TARGETS):
        y = np.nan_to_num(outputs[:, j], nan=np.nanmean(outputs[:, j]))
        if np.std(y) == 0:
            continue
        res = sobol_analyze.analyze(prob, y, calc_second_order=False, seed=seed)
        for i, name in enumerate(prob["names"]):
            rows.append({"target": target, "parameter": name, "S1": float(res["S1"][i]),
                         "S1_conf": float(res["S1_conf"][i]), "ST": float(res["ST"][i]),
                         "ST_conf": float(res["ST_conf"][i])})
    return pd.DataFrame(rows), len(design) * replicates


def plot_morris(table: pd.DataFrame, path: Path, free: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = table.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 6))
    colors = ["tab:red" if p in free else "tab:gray" for p in top["parameter"]]
    ax.barh(top["parameter"], top["score"], color=colors)
    ax.set_xlabel(f"Morris mu* / sd(statistic), mean over the {len(TARGETS)} targets")
    ax.set_title("Morris screen (top 20; red = calibrated)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
