"""Where a result came from: package version, code revision, library versions."""

from __future__ import annotations

import os
import platform
import re
import secrets
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Name of a temporary file of :func:`atomic_write_bytes`: ``.<target>.<writer's pid>-<token>.tmp``.
_TEMPORARY_NAME = re.compile(r"\..+\.([0-9]+)-[0-9a-f]+\.tmp")


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


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new temporary file beside ``path``, created exclusively with mode 0o666 less the umask.

    ``tempfile.mkstemp`` would create it 0o600, and the rename would make every output private;
    letting ``os.open`` apply the umask gives outputs the mode of any other file the user writes.
    """
    for _ in range(100):
        temporary = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary file name for {path.name}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old content or the whole new one.

    The file's mode is 0o666 less the umask, as for any file the user creates.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _create_temporary(path)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text variant of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


def remove_abandoned_temporaries(root: Path) -> list[Path]:
    """Delete the temporary files of :func:`atomic_write_bytes` under ``root`` whose writer no longer runs.

    A writer killed mid-write (SIGKILL, power loss) leaves its temporary file behind; one still
    running is left alone.

    Returns:
        The files deleted.
    """
    removed = []
    for path in Path(root).rglob(".*.tmp"):
        match = _TEMPORARY_NAME.fullmatch(path.name)
        if match is not None and not _process_exists(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
