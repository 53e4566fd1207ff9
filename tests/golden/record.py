"""Record the golden outputs: SHA-256 of ``events.csv`` and ``daily.csv`` for every scenario file x 3 seeds.

Run from the repository root when a change of model output is deliberate (and say why in the commit):

    uv run python tests/golden/record.py

``tests/test_golden_outputs.py`` recomputes the same runs and compares the digests, so a restructuring
that changes one byte of any output fails.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.run import csv_bytes, simulate  # noqa: E402
from sim.scenario import SCENARIOS_DIR, load_scenario  # noqa: E402

SEEDS = (1, 2011, 90210)
DIGESTS = HERE / "outputs.json"


def digests() -> dict[str, dict[str, str]]:
    """``{"<scenario>/<seed>": {"events.csv": sha256, "daily.csv": sha256}}`` for every scenario file."""
    out = {}
    for path in sorted(SCENARIOS_DIR.glob("*.toml")):
        scenario = load_scenario(path)
        for seed in SEEDS:
            result = simulate(scenario, seed=seed)
            out[f"{scenario.name}/{seed}"] = {
                name: hashlib.sha256(csv_bytes(frame)).hexdigest()
                for name, frame in (("events.csv", result.events), ("daily.csv", result.daily))
            }
    return out


if __name__ == "__main__":
    DIGESTS.write_text(json.dumps(digests(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}")
