"""Solara's front-end files, fetched once from the npm registry into Solara's local CDN cache.

The live page loads Solara's JavaScript and CSS from ``/_solara/cdn/<package>@<version>/...``. The Solara
server answers from its cache folder (``solara.server.settings.assets.proxy_cache_dir``) and otherwise fetches
the file from a public CDN, which a machine without internet access cannot reach: the page stays blank.
:func:`ensure_frontend` puts the npm packages the page needs into that folder instead: each tarball comes
from the npm registry (``NPM_CONFIG_REGISTRY`` if set), must match the sha512 pinned below, and is unpacked
into a temporary folder that is then renamed into place, so a package folder is complete whenever it exists.

Run ``python -m sim.frontend`` to fetch them ahead of time. After a Solara upgrade, tests/test_frontend.py names
any version Solara asks for that :data:`PACKAGES` lacks; take its ``dist.integrity`` from the registry
(``npm view NAME@VERSION dist.integrity``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sim.errors import KazsimInputError

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
TIMEOUT_SECONDS = 60
MAX_TARBALL_BYTES = 100 * 2**20
MARKER = ".kazsim-integrity"  # written last into a staged package: present only in complete folders


@dataclass(frozen=True)
class NpmPackage:
    """One npm package version and the ``dist.integrity`` (sha512) its tarball must have."""

    name: str
    version: str
    integrity: str

    @property
    def spec(self) -> str:
        """``name@version``, also the package's folder in Solara's CDN cache."""
        return f"{self.name}@{self.version}"

    def tarball_url(self, registry: str) -> str:
        """The tarball's address in the npm registry layout (``NAME/-/BASENAME-VERSION.tgz``)."""
        basename = self.name.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.name}/-/{basename}-{self.version}.tgz"


# The versions Solara 1.64 requests (tests/test_frontend.py checks them against the installed Solara).
PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage(
        "@widgetti/solara-vuetify3-app", "5.2.0",
        "sha512-9UMyjf9KASR9PucZ7848upx1gqOqlUnG5Hh5or5CTaN/Um+AxAHQGwv8x4fFJzco/OaccsWdtsqb3bmYAnBo+Q==",
    ),
    NpmPackage(
        "@widgetti/vue-grid-layout", "2.3.13-alpha.2",
        "sha512-zCPKe2r09eLUDl1NcdL66oPELDsbC07Z2xejPiQpPbE8hLITcr0DHvPEdL5UITQQilordKJwcxJXDE/QWo/KUA==",
    ),
    NpmPackage(
        "requirejs", "2.3.6",
        "sha512-ipEzlWQe6RK3jkzikgCupiTbTvm4S0/CAU5GlgptkN5SO6F3u0UD0K18wy6ErDqiCyP4J4YYe1HuAShvsxePLg==",
    ),
    NpmPackage(
        "font-awesome", "4.5.0",
        "sha512-XGGY8CN/NT8e5fKOC/K7CESNQ3+2oYOfZqwZcKgEMtcmTiHtFIH+XZWRoU0HtcdwhtSkpWXLfTIUlTdJ4PhX8A==",
    ),
)


class FrontendError(KazsimInputError):
    """Solara's front-end files are missing and cannot be fetched or installed."""


def registry_url(environ: Mapping[str, str] = os.environ) -> str:
    """The npm registry to fetch from: ``NPM_CONFIG_REGISTRY`` (any case) or the public registry."""
    registry = environ.get("NPM_CONFIG_REGISTRY") or environ.get("npm_config_registry") or DEFAULT_REGISTRY
    if urllib.parse.urlsplit(registry).scheme not in ("http", "https"):
        raise FrontendError(f"NPM_CONFIG_REGISTRY={registry}: expected an http:// or https:// address")
    return registry


def cache_dir() -> Path:
    """Solara's CDN cache folder (``SOLARA_ASSETS_PROXY_CACHE_DIR``, by default ``<venv>/share/solara/cdn``)."""
    import solara.server.settings  # imports part of Solara (~1 s): only when needed

    return Path(solara.server.settings.assets.proxy_cache_dir)


def is_installed(package: NpmPackage, cache: Path) -> bool:
    """Whether ``cache`` holds the complete, verified ``package``."""
    try:
        return (cache / package.spec / MARKER).read_text(encoding="utf-8").strip() == package.integrity
    except OSError:
        return False


def missing_packages(cache: Path, packages: Sequence[NpmPackage] = PACKAGES) -> list[NpmPackage]:
    """The ``packages`` not yet complete in ``cache``."""
    return [package for package in packages if not is_installed(package, cache)]


def ensure_frontend(
    cache: Path | None = None,
    *,
    packages: Sequence[NpmPackage] = PACKAGES,
    report: Callable[[str], None] = lambda message: None,
) -> list[NpmPackage]:
    """Fetch, verify and unpack every missing package into ``cache``; returns the packages fetched.

    Idempotent: packages already in place are left alone. ``report`` receives one line per fetched package.
    Raises :class:`FrontendError` naming the package, where it was fetched from and how to get it.
    """
    cache = cache_dir() if cache is None else cache
    missing = missing_packages(cache, packages)
    if not missing:
        return []
    registry = registry_url()
    for package in missing:
        url = package.tarball_url(registry)
        report(f"fetching {package.spec} from {url}")
        tarball = download(url, package, cache)
        verify(tarball, package, url)
        install(tarball, package, cache)
    return missing


def download(url: str, package: NpmPackage, cache: Path) -> bytes:
    """The tarball at ``url``; any network or HTTP failure becomes a :class:`FrontendError`."""
    request = urllib.request.Request(url, headers={"User-Agent": "kazsim", "Accept": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            tarball = response.read(MAX_TARBALL_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise FrontendError(
            f"Solara's front-end file package {package.spec} is missing from {cache} and could not be fetched "
            f"from {url} ({reason}); the page stays blank without it. Connect to the npm registry, or set "
            "NPM_CONFIG_REGISTRY to a mirror that has it, then run `uv run python -m sim.frontend`"
        ) from None
    if len(tarball) > MAX_TARBALL_BYTES:
        raise FrontendError(f"{url}: larger than {MAX_TARBALL_BYTES // 2**20} MiB; refusing it")
    return tarball


def verify(tarball: bytes, package: NpmPackage, url: str) -> None:
    """Refuse a tarball whose sha512 differs from the pinned integrity (a tampered or wrong mirror)."""
    actual = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode("ascii")
    if not hmac.compare_digest(actual, package.integrity):
        raise FrontendError(
            f"{url}: the tarball of {package.spec} does not match its pinned sha512 ({actual} instead of "
            f"{package.integrity}); refusing it. Check NPM_CONFIG_REGISTRY"
        )


def install(tarball: bytes, package: NpmPackage, cache: Path) -> Path:
    """Unpack ``tarball`` into ``cache/<name>@<version>/`` atomically; returns that folder."""
    target = cache / package.spec
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as error:
        raise FrontendError(
            f"cannot write Solara's front-end files into {cache} ({error}); "
            "set SOLARA_ASSETS_PROXY_CACHE_DIR to a writable folder"
        ) from None
    try:
        os.chmod(staging, 0o755)  # mkdtemp's 0700 would hide the files from a server run by another user
        extract(tarball, staging, package)
        (staging / MARKER).write_text(package.integrity + "\n", encoding="utf-8")
        _move_into_place(staging, target, package, cache)
    except OSError as error:
        raise FrontendError(f"cannot unpack {package.spec} into {target} ({error})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def extract(tarball: bytes, destination: Path, package: NpmPackage) -> None:
    """Unpack an npm tarball without its leading ``package/`` folder; only plain files and folders."""
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            members = []
            for member in archive.getmembers():
                parts = PurePosixPath(member.name).parts
                if not parts or parts[0] != "package" or not (member.isfile() or member.isdir()):
                    raise FrontendError(
                        f"the tarball of {package.spec} holds {member.name!r}, which is not a plain file or "
                        "folder under package/; refusing it"
                    )
                if len(parts) > 1:
                    members.append(member.replace(name=str(PurePosixPath(*parts[1:])), deep=False))
            archive.extractall(destination, members=members, filter="data")  # refuses '..' and absolute paths
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise FrontendError(f"the tarball of {package.spec} cannot be unpacked safely ({error}); refusing it") from None


def _move_into_place(staging: Path, target: Path, package: NpmPackage, cache: Path) -> None:
    """Rename ``staging`` to ``target``; an incomplete ``target`` is replaced, a complete one kept."""
    try:
        os.rename(staging, target)
        return
    except OSError:
        if is_installed(package, cache):  # another process installed it meanwhile
            return
    # An incomplete folder: files the Solara server cached one by one, or an interrupted unpack.
    stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".stale", dir=target.parent))
    os.rename(target, stale / "old")
    os.rename(staging, target)
    shutil.rmtree(stale, ignore_errors=True)


def main() -> int:
    """``python -m sim.frontend``: fetch what is missing; exit status 2 with a one-line message on failure."""
    try:
        cache = cache_dir()
        fetched = ensure_frontend(cache, packages=PACKAGES, report=lambda line: print(f"kazsim: {line}", flush=True))
    except FrontendError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    state = f"fetched {len(fetched)}" if fetched else "all"
    print(f"Solara front-end files ready in {cache} ({state} of {len(PACKAGES)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
