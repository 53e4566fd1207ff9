"""sim/frontend.py: Solara's front-end files from the npm registry, verified and unpacked safely; ``kazsim demo``.

These tests fetch nothing: the registry is a stand-in for ``urllib.request.urlopen`` serving tarballs made
here. tests/test_app.py fetches the real packages for the browser tests.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import urllib.error
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import frontend
from sim.cli import demo as demo_cli
from sim.frontend import FrontendError, NpmPackage

FILES = {"package/package.json": b'{"name": "@scope/demo-pkg"}', "package/dist/app.min.js": b"console.log(1)"}


def make_tarball(files: dict[str, bytes], add_more: Callable[[tarfile.TarFile], None] | None = None) -> bytes:
    """A gzipped tarball holding ``files`` (path -> content), as ``npm pack`` lays them out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
        if add_more:
            add_more(archive)
    return buffer.getvalue()


def pinned(tarball: bytes, name: str = "@scope/demo-pkg", version: str = "1.0.0-beta.1") -> NpmPackage:
    """A package whose pinned integrity is that of ``tarball``."""
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    return NpmPackage(name, version, f"sha512-{digest}")


class FakeRegistry:
    """Stands in for ``urlopen``: serves one body (or raises one error) and records the addresses asked for."""

    def __init__(self, body: bytes | None = None, error: Exception | None = None) -> None:
        self.body = body
        self.error = error
        self.urls: list[str] = []

    def __call__(self, request, timeout: float) -> io.BytesIO:
        assert timeout > 0
        self.urls.append(request.full_url)
        if self.error is not None:
            raise self.error
        return io.BytesIO(self.body)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeRegistry]:
    """Install a :class:`FakeRegistry`; the npm registry variables of this machine are cleared."""
    monkeypatch.delenv("NPM_CONFIG_REGISTRY", raising=False)
    monkeypatch.delenv("npm_config_registry", raising=False)

    def install(body: bytes | None = None, error: Exception | None = None) -> FakeRegistry:
        fake = FakeRegistry(body, error)
        monkeypatch.setattr(frontend.urllib.request, "urlopen", fake)
        return fake

    return install


def test_fetches_verifies_and_unpacks_once(registry, tmp_path):
    tarball = make_tarball(FILES)
    package = pinned(tarball)
    fake = registry(tarball)
    cache = tmp_path / "cdn"
    reported: list[str] = []
    assert frontend.ensure_frontend(cache, packages=[package], report=reported.append) == [package]
    folder = cache / "@scope" / "demo-pkg@1.0.0-beta.1"
    assert (folder / "dist" / "app.min.js").read_bytes() == b"console.log(1)"
    assert (folder / "package.json").exists() and not (folder / "package").exists()
    assert fake.urls == ["https://registry.npmjs.org/@scope/demo-pkg/-/demo-pkg-1.0.0-beta.1.tgz"]
    assert reported == [f"fetching @scope/demo-pkg@1.0.0-beta.1 from {fake.urls[0]}"]
    assert [p.name for p in (cache / "@scope").iterdir()] == [folder.name]  # no staging folder left behind
    assert frontend.missing_packages(cache, [package]) == []
    # Idempotent: a second call fetches nothing.
    assert frontend.ensure_frontend(cache, packages=[package]) == []
    assert len(fake.urls) == 1


def test_registry_comes_from_the_npm_variables(registry, monkeypatch, tmp_path):
    tarball = make_tarball(FILES)
    fake = registry(tarball)
    monkeypatch.setenv("npm_config_registry", "https://mirror.example/npm/")
    frontend.ensure_frontend(tmp_path / "a", packages=[pinned(tarball)])
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:4873")
    frontend.ensure_frontend(tmp_path / "b", packages=[pinned(tarball)])
    assert fake.urls == ["https://mirror.example/npm/@scope/demo-pkg/-/demo-pkg-1.0.0-beta.1.tgz",
                         "http://127.0.0.1:4873/@scope/demo-pkg/-/demo-pkg-1.0.0-beta.1.tgz"]
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "file:///etc/")
    with pytest.raises(FrontendError, match="NPM_CONFIG_REGISTRY=file:///etc/: expected an http"):
        frontend.ensure_frontend(tmp_path / "c", packages=[pinned(tarball)])


def test_a_tampered_tarball_is_refused(registry, tmp_path):
    package = pinned(make_tarball(FILES))
    registry(make_tarball({**FILES, "package/dist/app.min.js": b"steal(document.cookie)"}))
    with pytest.raises(FrontendError, match=r"does not match its pinned sha512 .*refusing it"):
        frontend.ensure_frontend(tmp_path / "cdn", packages=[package])
    assert not (tmp_path / "cdn").exists()


def _symlink(archive: tarfile.TarFile) -> None:
    link = tarfile.TarInfo("package/dist/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive.addfile(link)


def _hardlink(archive: tarfile.TarFile) -> None:
    link = tarfile.TarInfo("package/dist/copy.js")
    link.type, link.linkname = tarfile.LNKTYPE, "package/dist/app.min.js"
    archive.addfile(link)


@pytest.mark.parametrize("files, add_more", [
    ({**FILES, "package/../../escaped.txt": b"x"}, None),
    ({**FILES, "package/dist/../../../escaped.txt": b"x"}, None),
    ({**FILES, "/tmp/escaped.txt": b"x"}, None),
    ({**FILES, "elsewhere/escaped.txt": b"x"}, None),
    (FILES, _symlink),
    (FILES, _hardlink),
], ids=["dotdot", "nested-dotdot", "absolute", "outside-package", "symlink", "hardlink"])
def test_unsafe_tarballs_are_refused(registry, tmp_path, files, add_more):
    tarball = make_tarball(files, add_more)
    registry(tarball)
    cache = tmp_path / "deep" / "cdn"
    with pytest.raises(FrontendError, match="refusing it"):
        frontend.ensure_frontend(cache, packages=[pinned(tarball)])
    assert not list(tmp_path.rglob("escaped.txt")) and not list(tmp_path.rglob("passwd"))
    assert not (cache / "@scope" / "demo-pkg@1.0.0-beta.1").exists()
    assert list((cache / "@scope").iterdir()) == []  # the staging folder is gone


@pytest.mark.parametrize("error, reason", [
    (urllib.error.URLError("Name or service not known"), "Name or service not known"),
    (urllib.error.HTTPError("https://x", 404, "Not Found", {}, None), "Not Found"),
    (TimeoutError("timed out"), "timed out"),
])
def test_a_failed_download_says_what_is_missing_and_how_to_get_it(registry, tmp_path, error, reason):
    package = pinned(make_tarball(FILES))
    registry(error=error)
    with pytest.raises(FrontendError) as raised:
        frontend.ensure_frontend(tmp_path / "cdn", packages=[package])
    message = str(raised.value)
    assert "\n" not in message
    for expected in ("@scope/demo-pkg@1.0.0-beta.1", "https://registry.npmjs.org/@scope/demo-pkg/-/", reason,
                     str(tmp_path / "cdn"), "NPM_CONFIG_REGISTRY", "uv run python -m sim.frontend"):
        assert expected in message


def test_an_incomplete_folder_is_replaced(registry, tmp_path):
    tarball = make_tarball(FILES)
    registry(tarball)
    cache = tmp_path / "cdn"
    folder = cache / "@scope" / "demo-pkg@1.0.0-beta.1"
    (folder / "dist").mkdir(parents=True)  # what Solara's server leaves when it caches single files
    (folder / "dist" / "stale.css").write_text("old")
    frontend.ensure_frontend(cache, packages=[pinned(tarball)])
    assert sorted(p.name for p in (folder / "dist").iterdir()) == ["app.min.js"]
    assert [p.name for p in (cache / "@scope").iterdir()] == [folder.name]


def test_an_unwritable_cache_is_reported(registry, tmp_path):
    tarball = make_tarball(FILES)
    registry(tarball)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(FrontendError, match="cannot write Solara's front-end files into .* SOLARA_ASSETS_PROXY_CACHE"):
        frontend.ensure_frontend(tmp_path / "a-file" / "cdn", packages=[pinned(tarball)])


def test_main_fetches_or_fails_with_status_2(registry, monkeypatch, tmp_path, capsys):
    tarball = make_tarball(FILES)
    monkeypatch.setattr(frontend, "cache_dir", lambda: tmp_path / "cdn")
    monkeypatch.setattr(frontend, "PACKAGES", (pinned(tarball),))
    registry(error=urllib.error.URLError("offline"))
    assert frontend.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "offline" in err
    registry(tarball)
    assert frontend.main() == 0
    assert "ready" in capsys.readouterr().out
    assert frontend.main() == 0  # nothing left to fetch


# --- kazsim demo -------------------------------------------------------------------------------

@pytest.fixture
def demo_server(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Replace the Solara server process: records each start's environment and exits at once."""
    started: list[dict[str, str]] = []

    class FakeServer:
        def __init__(self, command: list[str], **kwargs) -> None:
            started.append(kwargs["env"])

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(demo_cli.subprocess, "Popen", FakeServer)
    monkeypatch.setattr(demo_cli.signal, "signal", lambda *args: None)
    return started


def test_demo_fetches_missing_frontend_files_before_serving(registry, demo_server, monkeypatch, tmp_path):
    from sim.cli.main import app

    tarball = make_tarball(FILES)
    package = pinned(tarball)
    cache = tmp_path / "cdn"
    monkeypatch.setattr(frontend, "cache_dir", lambda: cache)
    monkeypatch.setattr(frontend, "PACKAGES", (package,))
    fake = registry(tarball)
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert f"fetching @scope/demo-pkg@1.0.0-beta.1 from {fake.urls[0]}" in result.output
    assert result.output.index("fetching") < result.output.index("serving baseline_2011")
    assert demo_server[0]["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(cache)
    assert frontend.missing_packages(cache, [package]) == []
    # Once in place, nothing is fetched again.
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0 and "fetching" not in result.output and len(fake.urls) == 1


def test_demo_without_frontend_files_says_how_to_get_them(registry, demo_server, monkeypatch, tmp_path):
    from sim.cli.main import app

    monkeypatch.setattr(frontend, "cache_dir", lambda: tmp_path / "cdn")
    monkeypatch.setattr(frontend, "PACKAGES", (pinned(make_tarball(FILES)),))
    registry(error=urllib.error.URLError("[bold]no route[/bold] [link=https://x]to host"))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 2
    assert demo_server == []  # no blank page: the server never started
    assert "Traceback" not in result.output
    error_line = next(line for line in result.output.splitlines() if line.startswith("error: "))
    for expected in ("@scope/demo-pkg@1.0.0-beta.1", "[bold]no route[/bold] [link=https://x]to host",
                     "NPM_CONFIG_REGISTRY", "uv run python -m sim.frontend"):
        assert expected in error_line  # printed literally, not read as rich markup


def test_demo_prints_option_errors_literally(demo_server):
    from sim.cli.main import app

    result = CliRunner().invoke(app, ["demo", "[red]nope[/red]"])
    assert result.exit_code == 2 and demo_server == []
    assert "unknown scenario '[red]nope[/red]'" in result.output


# --- the versions Solara asks for -------------------------------------------------------------

# A CDN address in Solara's templates and Vue components: {{cdn}}/NAME@VERSION/ or ${this.getCdn()}/NAME@VERSION/.
CDN_REFERENCE = re.compile(r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@([^/\s\"'`]+)/")
# Packages Solara loads only for components the page does not use.
NOT_ON_THE_PAGE = {
    "katex": "math in solara.Markdown",
    "mermaid": "mermaid diagrams in solara.Markdown",
    "vega": "solara.FigureAltair",
    "vega-lite": "solara.FigureAltair",
    "vega-embed": "solara.FigureAltair",
    "@widgetti/solara-milkdown": "solara.MarkdownEditor",
    "codemirror": "solara.SqlCode",
    "echarts": "solara.FigureEcharts",
}


def solara_cdn_requests() -> dict[str, set[str]]:
    """Every npm package version the installed Solara loads through its CDN path: name -> versions."""
    import solara
    import solara.server.settings

    root = Path(solara.__file__).parent
    requests: dict[str, set[str]] = {}
    for path in root.rglob("*"):
        if path.suffix in {".py", ".vue", ".j2", ".html"} and "website" not in path.relative_to(root).parts:
            for name, version in CDN_REFERENCE.findall(path.read_text(encoding="utf-8", errors="replace")):
                requests.setdefault(name, set()).add(version)
    font = re.match(r"/((?:@[\w.-]+/)?[\w.-]+)@([^/]+)/", solara.server.settings.assets.fontawesome_path)
    requests.setdefault(font[1], set()).add(font[2])
    return requests


def test_the_pinned_packages_are_the_versions_solara_asks_for():
    import solara
    from solara.server import server

    requests = solara_cdn_requests()
    provided = {package.name: package.version for package in frontend.PACKAGES}
    # The template loads the Vue 3 or the Vue 2 app bundle, after the installed ipyvue.
    bundles = ("@widgetti/solara-vuetify3-app", "@widgetti/solara-vuetify-app")
    unused = {**NOT_ON_THE_PAGE, bundles[1] if server.vue3 else bundles[0]: "the other Vue version's bundle"}
    needed = {name: versions for name, versions in requests.items() if name not in unused}
    assert needed, "found no CDN address in Solara's templates: has the layout changed?"
    for name, versions in sorted(needed.items()):
        asked = ", ".join(f"{name}@{version}" for version in sorted(versions))
        assert versions == {provided.get(name)}, (
            f"Solara {solara.__version__} asks for {asked} but sim/frontend.py PACKAGES provides "
            f"{name + '@' + provided[name] if name in provided else 'nothing of that name'}: pin it there with its "
            f"sha512 (`npm view {name}@{max(versions)} dist.integrity`), or list it in NOT_ON_THE_PAGE"
        )
    assert set(provided) <= set(needed), f"pinned but no longer asked for: {sorted(set(provided) - set(needed))}"
    for package in frontend.PACKAGES:
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package.integrity), package.spec
