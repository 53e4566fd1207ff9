"""Planning a batch: its sizes and seeds, what a worker receives and returns, and the batch's identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sim.errors import KazsimInputError
from sim.schema import MAX_SEED

DEFAULT_REPLICATES = 100


DEFAULT_BASE_SEED = 2011


#: Most runs per scenario a batch may ask for: a slip such as 1e9 would otherwise plan centuries of work.
MAX_REPLICATES = 100_000


#: Most worker processes a batch may start.
MAX_WORKERS = 256


#: Times a run may take its worker process down before it is recorded as failed.
WORKER_ATTEMPTS = 3


#: Version of the manifest's digests; a folder made with another version is not extended. 3: a scenario's
#: digest covers the parameters it states (which the posterior draws leave alone), since explorations made
#: by version 2 stated every parameter and so ran without their draws.
MANIFEST_FORMAT = 3



class BatchError(KazsimInputError):
    """A batch folder that cannot be used as asked (other scenarios or seeds, corrupt files)."""


class BatchFolderWarning(UserWarning):
    """A damaged run (redone) or a foreign file (ignored) in a batch folder."""



@dataclass(frozen=True)
class RunSpec:
    """What a worker receives: the scenario as plain data (parameter draw applied), and a seed.

    ``particle`` and ``draw`` say where the parameters came from: the posterior particle and the
    values that replaced the scenario's own; both are stored in the run's record, for replay.
    """

    scenario: dict[str, Any]
    seed: int
    particle: int | None = None
    draw: dict[str, float] | None = None

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario["name"]


@dataclass(frozen=True)
class RunOutcome:
    """What a worker returns: compact tables as Parquet bytes, or the error."""

    name: str
    seed: int
    events: bytes | None = None
    daily: bytes | None = None
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    trace: str | None = None
    particle: int | None = None
    draw: dict[str, float] | None = None


@dataclass
class BatchProgress:
    """Counts a progress display needs."""

    total: int
    done: int = 0
    failed: int = 0


def check_batch_size(replicates: int, workers: int, base_seed: int = DEFAULT_BASE_SEED) -> None:
    """Refuse a batch size, worker count or first seed outside the supported range.

    Raises:
        BatchError: naming the option (``--replicates``, ``--workers``, ``--seed``) and its limits.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or not 1 <= replicates <= MAX_REPLICATES:
        raise BatchError(f"--replicates must be between 1 and {MAX_REPLICATES:,} runs per scenario, not {replicates}")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise BatchError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
    if isinstance(base_seed, bool) or not isinstance(base_seed, int) or base_seed < 0:
        raise BatchError(f"--seed must be a whole number >= 0, not {base_seed}")
    if base_seed + replicates - 1 > MAX_SEED:  # seeds are those kazsim run --seed accepts, and fit the tables' int64
        raise BatchError(f"--seed {base_seed} with --replicates {replicates} reaches seed "
                         f"{base_seed + replicates - 1}; the last seed must be at most {MAX_SEED}")


def seeds_for(replicates: int, base_seed: int = DEFAULT_BASE_SEED) -> list[int]:
    """The batch's seed list; a longer batch extends a shorter one with the same base."""
    return [base_seed + i for i in range(replicates)]



def draw_identity(draw_info: dict[str, Any]) -> dict[str, Any]:
    """What makes two batches' parameter draws the same: the mode and the posterior's content."""
    return {key: draw_info[key] for key in ("mode", "posterior_sha256") if key in draw_info}



def digest(data: dict[str, Any]) -> str:
    """A short, stable digest of JSON-like data."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

