"""Outputs are byte-identical to the recorded golden ones: every scenario file x 3 seeds (Epstein included).

The digests in ``tests/golden/outputs.json`` were first recorded before the code was restructured into one module
per agent kind and lever family (d83ede6), which changed no byte of them; a change of any output byte fails here.
Deliberate changes of the model's behaviour re-record them with ``uv run python tests/golden/record.py`` and say
why in the commit (the raid, trigger and contagion mechanisms and the defaults re-derived from January-September
did so twice, c971f74 and 069b3b8; ``git log -- tests/golden`` lists every re-recording).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from record import DIGESTS, digests


@pytest.mark.slow
def test_every_scenario_and_seed_gives_the_recorded_bytes() -> None:
    recorded = json.loads(DIGESTS.read_text())
    now = digests()
    assert sorted(now) == sorted(recorded), "scenario files were added or removed: re-record the golden outputs"
    changed = [run for run in recorded if now[run] != recorded[run]]
    assert not changed, f"outputs changed for {changed}"
