"""Writing calibration results: summary.json (merged section by section) and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.abc import weighted_quantile
from calibration.targets import FULL_YEAR, START, TargetSet
from sim.errors import KazsimInputError
from sim.parameters import BY_NAME
from sim.posterior import parameter_names
from sim.provenance import atomic_write_text, provenance


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return _jsonable(value.to_dict(orient="records"))
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def read_summary(out: Path) -> dict:
    """``out/summary.json`` as a dict ({} if there is none).

    Raises:
        KazsimInputError: if the file is not a JSON object.
    """
    path = Path(out) / "summary.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise KazsimInputError(f"{path}: not valid JSON ({error}); move it away or fix it") from None
    if not isinstance(data, dict):
        raise KazsimInputError(f"{path}: expected a JSON object")
    return data


def update_summary(out: Path, target_set: TargetSet | None = None, **sections) -> dict:
    """Merge ``sections`` into ``out/summary.json`` (creating it) and refresh provenance.

    ``target_set`` (default: the one the summary already names, else the full year) sets the
    ``targets`` and ``fit_window`` entries.
    """
    path = Path(out) / "summary.json"
    data = read_summary(out)
    data.update(_jsonable(sections))
    data["provenance"] = _jsonable(provenance())
    if target_set is not None or "targets" not in data:
        target_set = target_set or FULL_YEAR
        data["targets"] = dict(target_set.targets)
        data["fit_window"] = {"name": target_set.name, "start": START.isoformat(),
                              "end": target_set.end.isoformat()}
    Path(out).mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
    return data


def _finish(fig, title: str, path: Path) -> None:
    """Title, lay out, save and close a figure."""
    import matplotlib.pyplot as plt

    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_marginals(posterior: pd.DataFrame, path: Path, truth: dict[str, float] | None = None,
                   title: str = "ABC-SMC posterior marginals (last generation; dotted = 90 % interval)") -> None:
    """Weighted histogram of each parameter over its prior range, with median and 90 % interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = parameter_names(posterior)
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2), squeeze=False)
    w = posterior["weight"].to_numpy()
    for ax, name in zip(axes[0], names, strict=True):
        low, high = BY_NAME[name].plausible
        ax.hist(posterior[name], bins=25, range=(low, high), weights=w, density=True, color="tab:blue", alpha=0.7)
        ax.axhline(1 / (high - low), color="gray", ls="--", lw=1, label="prior")
        q05, q50, q95 = weighted_quantile(posterior[name].to_numpy(), w, [0.05, 0.5, 0.95])
        for q in (q05, q95):
            ax.axvline(q, color="tab:blue", ls=":", lw=1)
        ax.axvline(q50, color="tab:blue", lw=1.5)
        if truth and name in truth:
            ax.axvline(truth[name], color="tab:red", lw=1.5, label="truth")
        ax.set_xlabel(name)
        ax.set_xlim(low, high)
    axes[0][0].set_ylabel("posterior density")
    axes[0][0].legend(fontsize=7)
    _finish(fig, title, path)


def plot_bands(ppc: pd.DataFrame, observed: dict[str, float], path: Path, title: str,
               fitted_until_month: int = 12) -> None:
    """50 % and 90 % predictive bands of the monthly series against the observed ones.

    Months after ``fitted_until_month`` are shaded: the fit did not see them.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [("monthly_attacks", "attacks"), ("monthly_state_ops", "state operations"), ("monthly_deaths", "deaths")]
    months = np.arange(1, 13)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (key, label) in zip(axes, series, strict=True):
        cols = [f"{key}_{m:02d}" for m in months]
        if not all(c in ppc for c in cols):
            continue
        values = ppc[cols].to_numpy(dtype=float)
        q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        ax.fill_between(months, q[0], q[4], color="tab:blue", alpha=0.2, step="mid", label="90 %")
        ax.fill_between(months, q[1], q[3], color="tab:blue", alpha=0.35, step="mid", label="50 %")
        ax.step(months, q[2], where="mid", color="tab:blue", lw=1, label="median")
        ax.plot(months, [observed.get(c, np.nan) for c in cols], "ko", ms=4, label="observed")
        if fitted_until_month < 12:
            ax.axvspan(fitted_until_month + 0.5, 12.5, color="0.85", zorder=0, label="not fitted")
        ax.set_title(label)
        ax.set_xticks(months)
        ax.set_xlabel("month of 2011")
    axes[0].legend(fontsize=7)
    _finish(fig, title, path)


def plot_forecasts(pmfs: dict[str, np.ndarray], observed: np.ndarray, months: list[str], path: Path, title: str,
                   top: int = 6) -> None:
    """Each model's predictive pmf of monthly attacks (counts 0..top, the last bar is ``>= top``) against the
    observed count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(pmfs)
    width = 0.8 / len(names)
    counts = np.arange(top + 1)
    fig, axes = plt.subplots(1, len(months), figsize=(4.2 * len(months), 3.4), sharey=True, squeeze=False)
    for h, (ax, month) in enumerate(zip(axes[0], months, strict=True)):
        for i, name in enumerate(names):
            pmf = np.asarray(pmfs[name][h], dtype=float)
            bars = np.append(pmf[:top], pmf[top:].sum())
            ax.bar(counts + (i - (len(names) - 1) / 2) * width, bars, width=width, label=name.replace("_", " "))
        ax.axvline(int(observed[h]), color="k", ls="--", lw=1.2, label="observed")
        ax.set_xticks(counts, [*map(str, counts[:-1]), f">={top}"])
        ax.set_title(month)
        ax.set_xlabel("militant attacks in the month")
    axes[0][0].set_ylabel("predictive probability")
    axes[0][0].legend(fontsize=7)
    _finish(fig, title, path)


# --- the results tables of docs/calibration.md, generated from a summary.json ---------------------------------

def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _g(value, digits: int = 3) -> str:
    return "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.{digits}g}"


def results_markdown(summary: dict) -> str:
    """The tables docs/calibration.md shows for one calibration: posterior, identifiability, predictive
    mid-p values and (when scored) October-December forecast scores against the baselines."""
    out = []
    run = summary.get("calibration", {})
    if run:
        out.append(f"Fitted to {run.get('fit_window')} ({len(summary.get('targets', {}))} statistics); "
                   f"{run.get('population')} particles, {run.get('generations_completed')} generations, "
                   f"{run.get('total_simulations')} simulations in "
                   f"{_g(run.get('walltime_seconds_this_invocation'), 4)} s "
                   f"({run.get('sampler')}).\n")
    identifiability = {row["parameter"]: row for row in summary.get("identifiability", {}).get("table", [])}
    posterior = summary.get("posterior", {})
    free = run.get("free_parameters", list(posterior))
    if posterior:
        out += ["| parameter | prior | posterior median | 90 % interval | posterior/prior width | recovery coverage | "
                "recovery width ratio | recovery bias (prior sd) | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        for name in free:
            s, r = posterior[name], identifiability.get(name, {})
            out.append(_row([f"`{name}`", f"[{_g(s['prior_low'])}, {_g(s['prior_high'])}]", _g(s["median"]),
                             f"[{_g(s['q05'])}, {_g(s['q95'])}]", _g(s["interval_share_of_prior"], 2),
                             _g(r.get("recovery_coverage_90"), 2), _g(r.get("recovery_width_ratio"), 2),
                             _g(r.get("recovery_bias_over_prior_sd"), 2), r.get("verdict", "")]))
        others = [n for n in posterior if n not in free]
        if others:
            out.append(f"\nThe other {len(others)} parameters are not calibrated: each is drawn from its prior in "
                       "every simulation (the posterior file carries the draw each particle was simulated with), "
                       "so the posterior integrates over them.")
        out.append("")
    predictive = summary.get("posterior_predictive", {}).get("table", [])
    if predictive:
        out += ["| statistic | fitted | observed | median | 90 % interval | mid-p | within [0.05, 0.95] |",
                "|---|---|---|---|---|---|---|"]
        for row in predictive:
            out.append(_row([f"`{row['statistic']}`", "yes" if row["fitted"] else "held out", _g(row["observed"]),
                             _g(row["median"]), f"[{_g(row['q05'])}, {_g(row['q95'])}]", f"{row['mid_p']:.3f}",
                             "yes" if row["mid_p_ok"] else "**no**"]))
        out.append("")
    scores = summary.get("scores", {})
    if scores.get("models"):
        out.append(f"October-December monthly attacks ({scores.get('kazsim_forecast')} for kazsim; observed "
                   f"{scores.get('observed_oct_dec')}); baselines fitted to January-September. Lower log score and "
                   "RPS are better; a calibrated forecast has PIT values spread over (0, 1).\n")
        out += ["| model | log score | RPS | PIT (Oct, Nov, Dec) | 90 % intervals | mean interval width | "
                "predictive mean |", "|---|---|---|---|---|---|---|"]
        for name, s in scores["models"].items():
            out.append(_row([name, _g(s["log_score"]), _g(s["rps"]), ", ".join(f"{p:.2f}" for p in s["pit"]),
                             " ".join(f"[{lo}, {hi}]" for lo, hi in s.get("interval_90", [])),
                             _g(s.get("interval_90_width_mean")), ", ".join(f"{m:.2f}" for m in s["predictive_mean"])]))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


#: docs/calibration.md's generated blocks: marker name -> the summary.json they are made from.
DOC_BLOCKS = {"full_year": Path("calibration/results/summary.json"),
              "jan_sep": Path("calibration/results/heldout/summary.json")}


def update_docs(doc: Path = Path("docs/calibration.md"), root: Path = Path(".")) -> str:
    """Rewrite the generated result blocks of ``doc`` from the shipped summaries; returns the new text."""
    text = (root / doc).read_text(encoding="utf-8")
    for name, summary in DOC_BLOCKS.items():
        start, end = f"<!-- results:{name}:start -->", f"<!-- results:{name}:end -->"
        if start not in text or not (root / summary).is_file():
            continue
        table = results_markdown(json.loads((root / summary).read_text(encoding="utf-8")))
        text = text[: text.index(start) + len(start)] + "\n" + table + text[text.index(end):]
    return text


if __name__ == "__main__":  # uv run python -m calibration.report: refresh docs/calibration.md's tables
    atomic_write_text(Path("docs/calibration.md"), update_docs())
