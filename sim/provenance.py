"""Where a result came from: package version, code revision, library versions."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@cache
def package_version() -> str:
    """The installed kazsim version."""
    try:
        return version("kazsim")
    except PackageNotFoundError:
        return "unknown"


@cache
def git_revision() -> str:
    """The code's git commit, with ``-dirty`` when the work tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


@cache
def _environment() -> tuple[tuple[str, str], ...]:
    # Reading package metadata costs ~20 ms, as much as a third of a simulated year: once per process.
    libraries = {}
    for name in ("mesa", "numpy", "numba", "pandas", "scipy"):
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = "absent"
    return tuple({"python": platform.python_version(), **libraries}.items())


def environment() -> dict[str, str]:
    """Versions of the interpreter and the libraries results depend on."""
    return dict(_environment())


def provenance() -> dict[str, object]:
    """The provenance block every output carries."""
    return {"kazsim_version": package_version(), "git_revision": git_revision(), "environment": environment()}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old content or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text variant of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))
