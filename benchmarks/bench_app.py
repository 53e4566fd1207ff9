"""Does the live page feel live? One model step plus the redraw of the map and the timeline.

Run: ``uv run python benchmarks/bench_app.py [--days 365] [--scenario baseline_2011]``

For each simulated day it times what the page does after a step: ``model.step()`` plus the map
and the timeline rendered offscreen to the PNG bytes the browser receives (``sim.app.map_png``,
``timeline_png``: the static parts of each figure are drawn once and only the moving artists are
redrawn). It reports the median, 95th percentile and maximum per day against the 200 ms budget,
the first frame after a Reset (the full figures are drawn once), and for comparison a full
matplotlib redraw (``savefig`` of both figures) of one day. The national model runs at its
default scale (0.75° cells, 1,500 people per agent). Browser transfer and display are not
included. Wall-clock figures depend on machine load.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim.app import (
    LiveModel,
    map_figure,
    map_png,
    render_png,
    timeline_figure,
    timeline_png,
)

BUDGET_MS = 200.0


def measure(scenario: str, days: int) -> dict[str, float]:
    """Per-day timings in milliseconds for one run."""
    start = time.perf_counter()
    model = LiveModel(scenario_name=scenario)
    build = time.perf_counter() - start
    start = time.perf_counter()
    map_png(model)
    timeline_png(model)
    first = time.perf_counter() - start
    steps, draws, totals = [], [], []
    for _ in range(min(days, model.spec.period.days)):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        map_png(model)
        timeline_png(model)
        t2 = time.perf_counter()
        steps.append(t1 - t0)
        draws.append(t2 - t1)
        totals.append(t2 - t0)
    start = time.perf_counter()
    render_png(map_figure(model))
    render_png(timeline_figure(model))
    full = time.perf_counter() - start
    totals_sorted = sorted(totals)
    ms = 1000.0
    return {
        "days": len(totals),
        "build_ms": build * ms,
        "first_frame_ms": first * ms,
        "step_median_ms": statistics.median(steps) * ms,
        "draw_median_ms": statistics.median(draws) * ms,
        "total_median_ms": statistics.median(totals) * ms,
        "total_p95_ms": totals_sorted[int(0.95 * (len(totals) - 1))] * ms,
        "total_max_ms": totals_sorted[-1] * ms,
        "full_redraw_ms": full * ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scenario", nargs="+", default=["baseline_2011", "epstein_2002"])
    args = parser.parse_args()
    print(f"budget: one step + map + timeline redraw <= {BUDGET_MS:.0f} ms")
    for scenario in args.scenario:
        r = measure(scenario, args.days)
        verdict = "within budget" if r["total_p95_ms"] <= BUDGET_MS else "OVER BUDGET"
        print(
            f"{scenario}: {r['days']} days | step {r['step_median_ms']:.1f} ms + draw {r['draw_median_ms']:.1f} ms"
            f" = median {r['total_median_ms']:.1f} ms, p95 {r['total_p95_ms']:.1f} ms, max {r['total_max_ms']:.1f} ms"
            f" -> {verdict} | first frame after Reset {r['first_frame_ms']:.0f} ms (build {r['build_ms']:.0f} ms)"
            f" | full matplotlib redraw {r['full_redraw_ms']:.0f} ms"
        )


if __name__ == "__main__":
    main()
