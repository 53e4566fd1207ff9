"""Reading a batch folder back: its complete runs' tables, with the manifest, failures and problems."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.plan import BatchError
from sim.batch.store import BatchFolder, FolderProblem, read_manifest


@dataclass(frozen=True)
class BatchResult:
    """A batch's tables, restricted to the requested scenarios and seeds.

    ``events`` and ``daily`` are read from the folder when first used (a long batch need not
    hold every run in memory to report what it did); a completed run whose file is unreadable
    raises :class:`BatchError` then.
    """

    root: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failures: list[dict[str, Any]]
    problems: list[FolderProblem] = field(default_factory=list)

    @cached_property
    def events(self) -> pd.DataFrame:
        """Every run's events (incident schema), with ``seed`` and ``scenario`` columns."""
        return _read_partitioned(self.root, "events", self._complete)

    @cached_property
    def daily(self) -> pd.DataFrame:
        """Every run's daily table, with ``seed`` and ``scenario`` columns."""
        return _read_partitioned(self.root, "daily", self._complete)

    @cached_property
    def parameters(self) -> pd.DataFrame:
        """The parameter values each run drew, indexed by (scenario, seed), one column per drawn parameter.

        Read from the runs' records (``draw``); runs with no draw (``--parameters scenario``, or recorded
        before records carried draws) have none.
        """
        rows = []
        for name, seed in sorted(self._complete):
            path = self.root / "runs" / f"scenario={name}" / f"seed={seed}.json"
            try:
                values = json.loads(path.read_bytes()).get("draw", {})
            except (OSError, ValueError) as error:
                raise BatchError(f"{path}: unreadable ({error}); delete it, then {REDO_HINT}") from None
            rows.append({"scenario": name, "seed": seed, **(values if isinstance(values, dict) else {})})
        return pd.DataFrame(rows).set_index(["scenario", "seed"]) if rows else pd.DataFrame()

    @property
    def _complete(self) -> set[tuple[str, int]]:
        return set(zip(self.runs["scenario"], self.runs["seed"].astype(int), strict=True))

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, in manifest order."""
        return [n for n in self.manifest["scenarios"] if n in set(self.runs["scenario"])]


REDO_HINT = "run `kazsim batch` with the same arguments to redo the run"


def _read_partitioned(root: Path, kind: str, keep: set[tuple[str, int]]) -> pd.DataFrame:
    ordered = sorted(keep)

    def read(run: tuple[str, int]) -> pa.Table:
        path = root / kind / f"scenario={run[0]}" / f"seed={run[1]}.parquet"
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as error:
            reason = str(error).splitlines()[0]
            raise BatchError(f"{path}: unreadable ({reason}); delete it, then {REDO_HINT}") from None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # Parquet reads release the GIL
        tables = list(pool.map(read, ordered))
    if not tables:
        return pd.DataFrame()
    # One conversion to pandas for the whole batch: per-file conversion cost ~10 ms a run.
    frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    frame["scenario"] = np.repeat([name for name, _ in ordered], [t.num_rows for t in tables])
    return frame


def load_complete(root: Path, scenarios: Sequence[str] | None, seeds: Sequence[int] | None) -> BatchResult:
    """A batch folder's sound complete runs (damaged ones left out, listed in ``problems``)."""
    manifest = read_manifest(root)
    state = BatchFolder(root).inspect(manifest["scenarios"])
    keep = {
        (name, seed)
        for name, seed in state.complete
        if (scenarios is None or name in scenarios) and (seeds is None or seed in seeds)
    }
    runs = pd.DataFrame(sorted(keep), columns=["scenario", "seed"])
    return BatchResult(root, manifest, runs, state.failures, state.problems)


def load_batch(
    root: Path | str, scenarios: Sequence[str] | None = None, seeds: Sequence[int] | None = None
) -> BatchResult:
    """Read a batch folder (complete runs only); foreign files are listed in ``problems`` and ignored.

    Raises:
        BatchError: the manifest is missing, corrupt or of the wrong shape, or a completed run's
            files are damaged (naming the file).
    """
    result = load_complete(Path(root), scenarios, seeds)
    damaged = [
        problem for problem in result.problems
        if problem.run is not None and (scenarios is None or problem.run[0] in scenarios)
        and (seeds is None or problem.run[1] in seeds)
    ]
    if damaged:
        others = f" ({len(damaged) - 1} more damaged file(s))" if len(damaged) > 1 else ""
        raise BatchError(f"{damaged[0]}; {REDO_HINT}{others}")
    return result

