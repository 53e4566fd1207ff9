"""The methods paragraph of a report, written from a batch's manifest: what was run, how, with which code."""

from __future__ import annotations

from typing import Any

from sim.batch import BatchResult
from sim.batch.store import changed_fields
from sim.compare import INTERVAL, Effect
from sim.outcomes import OUTCOMES_DOC
from sim.provenance import provenance

#: Fields of a resolved scenario that say nothing about what it simulates.
UNSIMULATED = ("name", "description")
MAX_CHANGES_SHOWN = 8


def _value(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "unset"
    if isinstance(value, list):
        return "[]" if not value else "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def differences(baseline: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """What a scenario changes relative to the baseline: ``levers.sweeps.enabled true → false``."""
    changes = [field for field in changed_fields(baseline, other) if field.split(".")[0] not in UNSIMULATED]
    shown = [f"`{field}` {_shown(_value(baseline, field))} → {_shown(_value(other, field))}"
             for field in changes[:MAX_CHANGES_SHOWN]]
    if len(changes) > MAX_CHANGES_SHOWN:
        shown.append(f"and {len(changes) - MAX_CHANGES_SHOWN} more fields")
    return shown


def scenario_sentences(batch: BatchResult, baseline: str) -> list[str]:
    """One sentence per counterfactual: its name and what it changes relative to the baseline."""
    scenarios = batch.manifest["scenarios"]
    base = scenarios[baseline].get("resolved", {})
    sentences = []
    for name in batch.scenarios:
        if name == baseline:
            continue
        changes = differences(base, scenarios[name].get("resolved", {}))
        what = "; ".join(changes) if changes else "nothing that is simulated (a copy of the baseline)"
        sentences.append(f"`{name}` differs from the baseline in {what}.")
    return sentences


def parameter_sentence(draws: dict[str, Any], seeds: int) -> str:
    """How each replicate's behavioural parameters were chosen, naming the posterior file and its digest."""
    mode = draws.get("mode", "scenario")
    if mode == "posterior":
        particles = draws.get("particles", {})
        distinct = len(set(particles.values()))
        return (f"Each replicate's calibrated parameters were drawn from the posterior `{draws.get('posterior')}` "
                f"(sha256 {str(draws.get('posterior_sha256'))[:12]}…; {distinct} distinct particles over {seeds} "
                "seeds), the same draw for replicate i of every scenario, so effects carry parameter uncertainty "
                "and stay paired.")
    if mode == "point":
        return (f"Every run used the posterior mean of `{draws.get('posterior')}` (sha256 "
                f"{str(draws.get('posterior_sha256'))[:12]}…): effects carry no parameter uncertainty.")
    if mode == "prior":
        return ("Each replicate's parameters were all drawn from their priors (what the model assumes before the "
                "2011 record is seen), the same draw for replicate i of every scenario.")
    return "Every run used the scenario files' own parameter values (no posterior): effects carry no parameter " \
           "uncertainty."


def methods_paragraphs(batch: BatchResult, baseline: str, effects: list[Effect]) -> list[str]:
    """The methods section: design, scenarios, parameters, estimators, outcomes and provenance."""
    manifest = batch.manifest
    per_scenario = batch.runs.groupby("scenario").size()
    pairs = int(per_scenario.min()) if len(per_scenario) else 0
    seeds = sorted(set(batch.runs["seed"].astype(int)))
    resolved = manifest["scenarios"][baseline].get("resolved", {})
    period, scale = resolved.get("period", {}), resolved.get("scale", {})
    design = (f"We ran {pairs} paired replicates (seeds {seeds[0]}-{seeds[-1]}) of the baseline `{baseline}` and "
              f"of {_counted(len(batch.scenarios) - 1, 'counterfactual scenario')} with kazsim's national model, from "
              f"{period.get('start', '?')} to {period.get('end', '?')} at {scale.get('people_per_agent', '?')} "
              f"people per civilian group on a grid of {scale.get('cell_degrees', '?')}° cells. Replicate i of every "
              "scenario uses the same seed and so the same random streams (common random numbers): the "
              "difference between two scenarios' replicate i is the effect of what the scenarios change, not of "
              "chance.")
    if batch.failures:
        design += f" {_counted(len(batch.failures), 'run')} failed and are left out; their pairs are not used."
    estimators = (f"An effect is the counterfactual's value of an outcome minus the baseline's for the same seed, in "
                  f"the outcome's unit. We report its mean over the pairs with a {INTERVAL} percentile-"
                  "bootstrap interval (2,000 resamples of pairs), the 5-95 % range of single-pair effects (what "
                  "one year could look like), and P(worse), the share of pairs in which the counterfactual is "
                  "worse (ties counted half). Monthly figures show the mean over runs with its percentile-bootstrap "
                  f"{INTERVAL} interval and the 5-95 % range of single runs. Outcomes, their units and why "
                  f"P(worse) is blank for some are defined in `{OUTCOMES_DOC}`.")
    paragraphs = [design, " ".join(scenario_sentences(batch, baseline)),
                  parameter_sentence(manifest.get("parameters", {}), len(seeds)), estimators]
    if any(effect.prior_effect is not None for effect in effects):
        paragraphs.append("Effects under the prior repeat the comparison with parameters drawn from the "
                          "calibration's prior instead of its posterior: where the two differ, the effect depends on "
                          "what calibration learnt from the 2011 record.")
    if any(effect.attribution for effect in effects):
        paragraphs.append("The variance attribution gives, per outcome, the share of the variance of the "
                          "single-pair effects each parameter accounts for.")
    made = manifest.get("provenance", {})
    now = provenance()
    origin = (f"Runs made with kazsim {made.get('kazsim_version', '?')} at revision "
              f"`{str(made.get('git_revision', '?'))[:12]}`")
    if (now["kazsim_version"], now["git_revision"]) != (made.get("kazsim_version"), made.get("git_revision")):
        origin += (f"; this report written by kazsim {now['kazsim_version']} at revision "
                   f"`{str(now['git_revision'])[:12]}`")
    environment = made.get("environment", {})
    if environment:
        origin += " (" + ", ".join(f"{name} {version}" for name, version in environment.items()) + ")"
    paragraphs.append(origin + f". Batch folder: `{batch.root}`.")
    return paragraphs
