"""Parameter draws: the calibrated posterior for the parameters the record informs, priors for the rest.

A posterior file (``calibration/results/posterior.csv``) has columns ``particle, weight`` and one
column per calibrated parameter. Every other registry parameter is uncertain too: it is drawn from
its prior, uniform on its plausible range (``sim.parameters``), so no behavioural number stays a
silent point value. Batches, ``kazsim run``, comparison and calibration all draw through this module,
and every draw is a function of the run's seed alone: a run with seed ``s`` uses the particle
:func:`particle_for_seed` gives and the prior values :func:`prior_draw` gives, whatever else is run
beside it. Parameters a scenario states itself (its ``[parameters]`` table or ``--set``) are not drawn.
"""

from __future__ import annotations

import hashlib
import io
import math
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import DataError, KazsimInputError
from sim.parameters import BY_NAME, PARAMETERS
from sim.scenario import Scenario
from sim.textfiles import UnreadableFileError, read_text, safe_repr

WEIGHT_TOLERANCE = 1e-6
PARAMETER_MODES = ("posterior", "prior", "point", "scenario")
#: Mixed with a run's seed to give its posterior draw a random stream the model does not use.
_DRAW_STREAM = 7919
#: Mixed with a run's seed and a parameter's name for its prior draw (independent of the registry's order).
_PRIOR_STREAM = 104729


#: Plausible share of the population openly supporting militancy (people in the sympathiser and recruit
#: stages). Pew (2013) found 10 % of Kyrgyzstan's Muslims saying violence against civilians in defence of
#: Islam is often or sometimes justified and 3 % in the North Caucasus; open support is a fraction of
#: such attitudes. The lower bound is the scale of the militant milieu the 2011 prosecutions reveal
#: (tens to hundreds of people, domain notes §1) times a generous margin.
MIN_SUPPORT_SHARE = 0.0002
MAX_SUPPORT_SHARE = 0.03


class PosteriorError(DataError):
    """A posterior file that cannot be used: names the file, the row (CSV line) and the column."""


class DrawError(KazsimInputError):
    """Parameter draws that cannot be made as asked (an unknown mode, scenarios naming different posteriors)."""


def load_posterior(path: Path | str) -> pd.DataFrame:
    """Load and validate a posterior sample.

    The file is a CSV with columns ``particle, weight`` and then one column per calibrated
    parameter (names from ``sim.parameters``). Weights are non-negative and sum to 1; every
    value lies within the parameter's hard bounds.

    Returns:
        The table with ``particle`` as int and everything else as float.

    Raises:
        PosteriorError: naming the file, the line (1 = header) and the column at fault.
    """
    path = Path(path)
    try:
        text = read_text(path)
    except UnreadableFileError as error:
        raise PosteriorError(path, None, None, f"posterior file {error.problem.removeprefix('file ')}") from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise PosteriorError(path, None, None, f"not a readable CSV ({str(error).strip()})") from None
    columns = list(frame.columns)
    if columns[:2] != ["particle", "weight"]:
        raise PosteriorError(path, 1, None, f"the first columns must be 'particle, weight' (got {columns[:2]})")
    names = columns[2:]
    if not names:
        raise PosteriorError(path, 1, None, "no parameter columns after 'particle, weight'")
    for name in names:
        if name not in BY_NAME:
            raise PosteriorError(path, 1, name, "not a parameter of the model (see sim/parameters.py)")
    if len(set(columns)) != len(columns):
        raise PosteriorError(path, 1, None, "duplicate column names")
    if frame.empty:
        raise PosteriorError(path, None, None, "no particles")
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = []
        for i, text in enumerate(frame[column]):
            line = i + 2
            try:
                value = float(text)
            except ValueError:
                raise PosteriorError(path, line, column, f"not a number ({safe_repr(text)})") from None
            if not math.isfinite(value):
                raise PosteriorError(path, line, column, f"not a finite number ({safe_repr(text)})")
            if column == "particle" and value != int(value):
                raise PosteriorError(path, line, column, f"particle ids are integers (got {safe_repr(text)})")
            if column == "weight" and value < 0:
                raise PosteriorError(path, line, column, f"negative weight {value:g}")
            if column in BY_NAME:
                low, high = BY_NAME[column].bounds
                if not low <= value <= high:
                    raise PosteriorError(path, line, column,
                                         f"{value:g} is outside the hard bounds [{low:g}, {high:g}]")
            values.append(value)
        out[column] = values
    out["particle"] = out["particle"].astype("int64")
    total = float(out["weight"].sum())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise PosteriorError(path, None, "weight", f"weights sum to {total:.8g}, not 1")
    return out.reset_index(drop=True)


def parameter_names(posterior: pd.DataFrame) -> list[str]:
    """The calibrated parameters of a posterior sample (its columns after ``particle, weight``)."""
    return [c for c in posterior.columns if c not in ("particle", "weight")]


def particle_for_seed(weights: np.ndarray, seed: int) -> int:
    """Row of the posterior particle a run with ``seed`` uses, drawn with probability equal to its weight.

    The draw depends on the weights and the seed alone, so a run's parameters do not change when
    the batch around it grows.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, _DRAW_STREAM]))
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def sample_rows(posterior: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows drawn with replacement in proportion to the particles' weights."""
    weights = posterior["weight"].to_numpy()
    return rng.choice(len(posterior), size=n, replace=True, p=weights / weights.sum())


def prior_draw(seed: int, names: Sequence[str] | None = None) -> dict[str, float]:
    """Registry parameters drawn from their priors (uniform on the plausible range) for a run with ``seed``.

    Each parameter's draw comes from a stream fixed by the seed and the parameter's name, so it does
    not change when other parameters are added, removed or calibrated. Whole-number parameters are
    uniform on the whole numbers of their range.
    """
    out = {}
    for name in names if names is not None else [p.name for p in PARAMETERS]:
        parameter = BY_NAME[name]
        rng = np.random.default_rng(np.random.SeedSequence([seed, _PRIOR_STREAM, zlib.crc32(name.encode())]))
        low, high = parameter.plausible
        if parameter.integer:
            out[name] = float(int(low) + int(rng.integers(int(high) - int(low) + 1)))
        else:
            out[name] = float(low + (high - low) * rng.random())
    return out


def plausible_support(day) -> bool:
    """Whether the share of people openly supporting militancy on a day (a row of the daily table) is plausible.

    Part of the prior: calibration rejects runs outside it at mid-period and at the end, and comparisons under
    the prior leave out pairs whose baseline run leaves it (``sim.compare``).
    """
    people = (day["quiet"] + day["sympathisers"] + day["recruits"] + day["in_cells"] + day["detained"]
              + day["imprisoned"] + day["dead"])
    return bool(MIN_SUPPORT_SHARE <= (day["sympathisers"] + day["recruits"]) / people <= MAX_SUPPORT_SHARE)


def stated_parameters(scenario: Scenario) -> set[str]:
    """The parameters a scenario states itself (its ``[parameters]`` table, ``extends`` chain or ``--set``)."""
    return set(scenario.parameters.model_fields_set)


def parameter_draws(
    scenarios: Sequence[Scenario], seeds: Sequence[int], mode: str
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    """Parameter values for each seed, shared by every scenario (common draws).

    ``posterior``: the calibrated parameters from seed s's particle (drawn with probability equal to
    its weight from a stream fixed by s, :func:`particle_for_seed`), every other parameter from its
    prior (:func:`prior_draw`). ``prior``: every parameter from its prior: what the model assumes
    before the record is seen. ``point``: the weighted posterior mean for the calibrated parameters
    and the registry defaults for the rest, for every seed. ``scenario``: each scenario's own values.
    Parameters a scenario states itself are never drawn (:func:`stated_parameters`; applied by
    :func:`with_parameters`). Without a posterior named by the scenarios, ``posterior`` and ``point``
    fall back to ``prior`` and ``scenario``.

    Returns:
        Per seed, the parameter values to override, and a description for provenance: the mode,
        the posterior's path and sha256 (its identity), and the particle of each seed.
    """
    if mode not in PARAMETER_MODES:
        raise DrawError(f"--parameters must be one of {', '.join(PARAMETER_MODES)}, not {mode!r}")
    paths = {s.posterior for s in scenarios}
    if mode == "scenario" or (mode == "point" and paths == {None}):
        return [{} for _ in seeds], {"mode": "scenario"}
    if mode == "prior" or paths == {None}:
        return [prior_draw(seed) for seed in seeds], {"mode": "prior"}
    if len(paths) != 1:
        raise DrawError(f"scenarios name different posteriors ({sorted(map(str, paths))}); common draws need one")
    path = Path(paths.pop())
    posterior = load_posterior(path)
    identity = {"posterior": str(path), "posterior_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    names = parameter_names(posterior)
    weights = posterior["weight"].to_numpy()
    if mode == "point":
        point = {p.name: float(p.default) for p in PARAMETERS}
        point.update({n: float((posterior[n] * weights).sum()) for n in names})
        return [dict(point) for _ in seeds], {"mode": "point", **identity, "values": point}
    others = [p.name for p in PARAMETERS if p.name not in names]
    chosen = [particle_for_seed(weights, seed) for seed in seeds]
    rows = posterior[names].to_numpy(dtype=float).tolist()
    draws = [{**prior_draw(seed, others), **dict(zip(names, rows[i], strict=True))}
             for seed, i in zip(seeds, chosen, strict=True)]
    ids = posterior["particle"].tolist()
    particles = {str(seed): int(ids[i]) for seed, i in zip(seeds, chosen, strict=True)}
    return draws, {"mode": "posterior", **identity, "calibrated": names, "particles": particles}


def with_parameters(scenario: Scenario, values: dict[str, float], stated: set[str] | None = None) -> dict[str, Any]:
    """A scenario's resolved data with drawn parameter values, except those it states itself (integers rounded).

    ``stated`` replaces :func:`stated_parameters` for a scenario rebuilt from resolved data (which states
    every parameter): a replay passes the set its batch recorded.
    """
    data = scenario.resolved()
    stated = stated_parameters(scenario) if stated is None else stated
    values = {k: v for k, v in values.items() if k not in stated}
    if values:
        integers = {p.name for p in PARAMETERS if p.integer}
        data["parameters"] = {**data["parameters"],
                              **{k: int(round(v)) if k in integers else v for k, v in values.items()}}
    return data
