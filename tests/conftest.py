"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.data import SEEDS_DIR, ObservedData


@pytest.fixture(scope="session")
def observed() -> ObservedData:
    """The shipped seed data, loaded once."""
    data = ObservedData(SEEDS_DIR)
    data.validate()
    return data


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of seeds/ to corrupt in a test."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, target)
    return target
