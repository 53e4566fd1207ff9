"""Per-step cost of Mesa's reference civil-violence model vs kazsim's ``EpsteinModel``.

Run: ``uv run python benchmarks/bench_epstein.py [--sizes 40 100] [--mesa-steps 10] [--our-steps 200]``

Both models at the docking configuration (citizen density 0.7, cop density 0.04, vision 7,
legitimacy 0.82, max jail 30, Von Neumann, torus) on square grids. Construction is excluded;
numba is compiled (or loaded from its cache) before timing; each model first takes a few
warm-up steps (Mesa memoises neighbourhoods on its first step); the figure reported is the
median wall time of single steps after that. Mesa's step is the example as shipped, including
its DataCollector (model and agent reporters); ours includes recording the day's counts.
Wall-clock figures depend on machine load: run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence, EpsteinScenario

from sim.epstein import EpsteinModel
from sim.scenario import Scenario, load_scenario

SEED = 42
WARMUP_STEPS = 3


def median_step_ms(model, steps: int) -> float:
    """Median wall time of one ``model.step()`` in milliseconds, after warm-up steps."""
    for _ in range(WARMUP_STEPS):
        model.step()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(times)


def our_scenario(size: int) -> Scenario:
    return load_scenario("epstein_2002", overrides=[f"epstein.width={size}", f"epstein.height={size}"])


def mesa_model(scenario: Scenario) -> EpsteinCivilViolence:
    s = scenario.epstein
    params = s.model_dump(exclude={"width", "height"})
    return EpsteinCivilViolence(s.width, s.height, scenario=EpsteinScenario(rng=SEED, **params))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 100], help="grid side lengths")
    parser.add_argument("--mesa-steps", type=int, default=10, help="timed steps of Mesa's model")
    parser.add_argument("--our-steps", type=int, default=200, help="timed steps of EpsteinModel")
    args = parser.parse_args()

    EpsteinModel(our_scenario(10), rng=0).run(3)  # compile or load the numba kernel

    rows = []
    for size in args.sizes:
        scenario = our_scenario(size)
        ours = EpsteinModel(scenario, rng=SEED)
        ours_ms = median_step_ms(ours, args.our_steps)
        reference = mesa_model(scenario)
        mesa_ms = median_step_ms(reference, args.mesa_steps)
        rows.append((f"{size}x{size}", ours.n_citizens, ours.n_cops, mesa_ms, ours_ms, mesa_ms / ours_ms))

    print("Epstein civil violence, docking configuration; median ms per step after warm-up")
    header = f"{'grid':>8} {'citizens':>9} {'cops':>5} {'mesa ms':>9} {'kazsim ms':>10} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for grid, citizens, cops, mesa_ms, ours_ms, ratio in rows:
        print(f"{grid:>8} {citizens:>9} {cops:>5} {mesa_ms:9.1f} {ours_ms:10.3f} {ratio:8.0f}x")


if __name__ == "__main__":
    main()
