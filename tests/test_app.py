"""The live page (sim/app/) and ``kazsim demo``.

Browser tests drive a Chromium with Playwright's Python package against a Solara server started on a
free 127.0.0.1 port. They provision Solara's front-end files themselves (sim/frontend.py fetches them
from the npm registry once) and use ``KAZSIM_CHROMIUM`` if set, else /usr/bin/chromium, a Chromium or
Chrome on PATH, or Playwright's own browser. Without a browser they are skipped with a one-line hint,
except under ``CI=true``, where that is a failure. A screenshot goes to tests/artifacts/app.png.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

from sim import frontend
from sim.cli import demo as demo_cli
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_COMMANDS = ("chromium", "chromium-browser", "google-chrome")
HOW_TO_GET_CHROMIUM = (
    "`sudo apt-get install chromium` (Debian) or `uv run playwright install chromium`, or set KAZSIM_CHROMIUM"
)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 60_000


# --- non-browser ------------------------------------------------------------------------------

def test_demo_refuses_a_non_loopback_host_without_permission(monkeypatch):
    from sim.cli.main import app

    def no_server(*args, **kwargs):
        raise AssertionError("the server must not start")

    monkeypatch.setattr(demo_cli.subprocess, "Popen", no_server)
    result = CliRunner().invoke(app, ["demo", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output
    assert "Traceback" not in result.output


def test_demo_binds_what_it_is_told(monkeypatch, tmp_path):
    from sim.cli.main import app

    calls = []

    class FakeServer:
        def __init__(self, command, **kwargs):
            assert kwargs["env"]["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(tmp_path)
            calls.append((command, kwargs["env"]["KAZSIM_DEMO_SCENARIO"]))

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(demo_cli.subprocess, "Popen", FakeServer)
    monkeypatch.setattr(demo_cli.signal, "signal", lambda *args: None)
    monkeypatch.setattr(demo_cli, "provide_frontend", lambda report: tmp_path)  # tests/test_frontend.py covers it
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "no_sweeps", "--port", "8799"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8799/" in result.output
    command, scenario = calls[-1]
    assert command[command.index("--host") + 1] == "127.0.0.1" and scenario == "no_sweeps"
    result = runner.invoke(app, ["demo", "--host", "0.0.0.0", "--allow-remote"])
    assert result.exit_code == 0, result.output
    assert calls[-1][0][calls[-1][0].index("--host") + 1] == "0.0.0.0"
    assert runner.invoke(app, ["demo", "no_such_scenario"]).exit_code == 2
    assert runner.invoke(app, ["demo", "--port", "0"]).exit_code == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host):
    assert demo_cli.is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org", ""])
def test_non_loopback_hosts(host):
    assert not demo_cli.is_loopback(host)


def test_page_input_handling_never_evaluates_or_unpickles():
    forbidden = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(|literal_eval|\bpickle\b|\bmarshal\b|\bdill\b"
                           r"|\bshelve\b|yaml\.(unsafe_)?load\b|_parse_value|apply_overrides")
    for path in (*sorted((ROOT / "sim" / "app").glob("*.py")), ROOT / "sim" / "cli" / "demo.py"):
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        assert not forbidden.search(code), f"{path.name}: {forbidden.search(code)[0]}"


MALICIOUS = [
    "__import__('os').system('touch /tmp/kazsim-pwned')",
    "2011-10-25\nlevers.raids.lethality = 1",
    "{{7*7}}",
    "cos\nsystem\n(S'touch /tmp/kazsim-pwned'\ntR.",
    "2011-02-30",
]


@pytest.mark.parametrize("value", MALICIOUS)
def test_malicious_or_impossible_values_are_rejected(value, tmp_path):
    from sim.app import LiveModel, scenario_from_controls

    with pytest.raises(ScenarioError):
        scenario_from_controls("baseline_2011", {"law_date": value})
    with pytest.raises(ScenarioError):
        scenario_from_controls("baseline_2011", {}, seed=value)
    with pytest.raises(ScenarioError):
        scenario_from_controls(value, {})
    with pytest.raises(ScenarioError):
        scenario_from_controls("baseline_2011", {"raid_lethality": value})
    model = LiveModel(law_date=value)
    assert model.input_error and "levers.religion_law.start" in model.input_error
    assert model.spec.levers.religion_law.start.isoformat() == "2011-10-25"  # the file's own value
    model.step()
    assert model.days == 1
    assert not Path("/tmp/kazsim-pwned").exists()


def test_controls_start_at_the_scenario_values_and_set_what_they_say():
    from sim.app import model_params, scenario_from_controls

    params = model_params("aggressive_raids")
    assert params["raid_lethality"]["value"] == 0.8 and params["raid_lethality"]["unit"] == "share killed"
    assert params["law_date"]["value"] == "2011-10-25" and params["religion_law"]["type"] == "Checkbox"
    assert scenario_from_controls("aggressive_raids", {}).levers.raids.lethality == 0.8  # the file's value
    moved = scenario_from_controls("aggressive_raids", {"raid_lethality": 0.5, "law_date": "2011-06-01"}, "12")
    assert moved.levers.raids.lethality == 0.5
    assert moved.levers.religion_law.start.isoformat() == "2011-06-01"
    assert moved.seed == 12
    with pytest.raises(ScenarioError, match="levers.raids.lethality"):
        scenario_from_controls("baseline_2011", {"raid_lethality": 1.5})
    for bad in (float("inf"), float("nan"), "0.7", True, None, [1]):
        with pytest.raises(ScenarioError, match="levers.patrols.intensity"):
            scenario_from_controls("baseline_2011", {"patrol_intensity": bad})
    with pytest.raises(ScenarioError, match="levers.sweeps.enabled"):
        scenario_from_controls("baseline_2011", {"sweeps": "no"})
    with pytest.raises(ScenarioError, match="not a control"):
        scenario_from_controls("baseline_2011", {"__class__": 1})


def test_every_control_shows_its_value_with_its_unit():
    from sim.app.controls import lever_controls, model_params, shown_value

    for name, spec in model_params("baseline_2011").items():
        _, control = lever_controls()[name]
        text = shown_value(control, spec["value"])
        assert text and text != "None", name
        if spec["type"].startswith("Slider"):
            assert control.unit and text.endswith(control.unit), name
    _, patrols = lever_controls()["patrol_intensity"]
    assert shown_value(patrols, 1.5) == "1.5 × 2011"


def test_a_slider_shows_the_unit_its_lever_field_declares_unless_it_words_it_for_the_page():
    from dataclasses import replace

    from sim.app.controls import _with_unit, lever_controls, policy_unit, shown_value

    for name, (family, control) in lever_controls().items():
        if control.kind == "slider":
            assert policy_unit(family, control), name  # every slider's field states its unit (policy(...))
    _, size = lever_controls()["sweep_size"]
    bare = _with_unit("sweeps", replace(size, unit=""))
    assert bare.unit == policy_unit("sweeps", size) == "people" and shown_value(bare, 40) == "40 people"


def test_figures_render_for_both_modes():
    from PIL import Image

    from sim.app import LiveModel, map_png, render_png, timeline_figure, timeline_png

    for name, days in (("baseline_2011", 300), ("epstein_2002", 20)):  # the timeline changes with incidents
        model = LiveModel(scenario_name=name)
        first = timeline_png(model)
        for _ in range(days):
            model.step()
        for png in (map_png(model), timeline_png(model), render_png(timeline_figure(model))):
            image = Image.open(io.BytesIO(png))
            assert image.size[0] > 400 and image.size[1] > 200
        assert timeline_png(model) != first


# --- what the browser tests need ---------------------------------------------------------------

def _executable(path: str | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def playwright_chromium() -> str | None:
    """The browser ``playwright install chromium`` downloads, if it has been."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            return playwright.chromium.executable_path
    except Error:  # e.g. no browser known for this platform: simply none found
        return None


def find_chromium(
    environ: Mapping[str, str],
    which: Callable[[str], str | None] = shutil.which,
    fixed_paths: Sequence[str] = (DEBIAN_CHROMIUM,),
    playwright_browser: Callable[[], str | None] = playwright_chromium,
) -> str:
    """The Chromium to drive: ``KAZSIM_CHROMIUM`` alone when set, else the first executable one found.

    Raises LookupError with a one-line reason and how to get one.
    """
    chosen = environ.get("KAZSIM_CHROMIUM")
    if chosen:
        if _executable(chosen):
            return chosen
        raise LookupError(f"KAZSIM_CHROMIUM={chosen} is not an executable file: point it at a Chromium or unset it")

    def candidates() -> Iterator[str | None]:
        yield from fixed_paths
        yield from (which(command) for command in CHROMIUM_COMMANDS)
        yield playwright_browser()  # last: it starts Playwright's driver

    for candidate in candidates():
        if _executable(candidate):
            return candidate
    raise LookupError(f"no Chromium found: {HOW_TO_GET_CHROMIUM}")


def on_ci(environ: Mapping[str, str]) -> bool:
    """Whether this is a CI run (``CI=true``), where browser tests must run."""
    return environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def unavailable(reason: str, environ: Mapping[str, str]) -> NoReturn:
    """Skip the browser tests for want of ``reason``; on CI fail instead, so CI always drives the browser."""
    if on_ci(environ):
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium the browser tests drive."""
    try:
        return find_chromium(os.environ)
    except LookupError as missing:
        reason = str(missing)
    unavailable(reason, os.environ)  # outside the except: the report shows the reason, not a chained traceback


@pytest.fixture(scope="module")
def frontend_cache() -> Path:
    """Solara's CDN cache holding the page's front-end files, fetched from the npm registry if missing."""
    try:
        cache = frontend.cache_dir()
        frontend.ensure_frontend(cache)
        return cache
    except frontend.FrontendError as missing:
        reason = str(missing)
    unavailable(reason, os.environ)


def _executable_file(folder: Path, name: str) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_chromium_discovery_order(tmp_path):
    debian, on_path, downloaded = (_executable_file(tmp_path, name) for name in ("debian", "on-path", "playwright"))
    asked: list[str] = []

    def which(command: str) -> str | None:
        asked.append(command)
        return on_path if command == "google-chrome" else None

    assert find_chromium({}, which, [debian], lambda: downloaded) == debian
    assert asked == []  # the first hit ends the search
    assert find_chromium({}, which, [str(tmp_path / "absent")], lambda: downloaded) == on_path
    assert asked == list(CHROMIUM_COMMANDS)
    assert find_chromium({}, lambda command: None, [], lambda: downloaded) == downloaded
    with pytest.raises(LookupError) as raised:
        find_chromium({}, lambda command: None, [], lambda: str(tmp_path / "not-downloaded"))
    assert str(raised.value) == f"no Chromium found: {HOW_TO_GET_CHROMIUM}"


def test_kazsim_chromium_is_honoured_strictly(tmp_path):
    chosen, other = _executable_file(tmp_path, "chosen"), _executable_file(tmp_path, "other")

    def no_playwright() -> str:
        raise AssertionError("KAZSIM_CHROMIUM set: nothing else may be searched")

    assert find_chromium({"KAZSIM_CHROMIUM": chosen}, lambda command: other, [other], no_playwright) == chosen
    (tmp_path / "plain").write_text("")
    for wrong in ("/nonexistent", str(tmp_path), str(tmp_path / "plain")):
        with pytest.raises(LookupError, match=f"KAZSIM_CHROMIUM={re.escape(wrong)} is not an executable file"):
            find_chromium({"KAZSIM_CHROMIUM": wrong}, lambda command: other, [other], no_playwright)


def test_a_missing_browser_skips_but_fails_on_ci():
    with pytest.raises(pytest.skip.Exception, match="^no Chromium found"):
        unavailable("no Chromium found", {})
    with pytest.raises(pytest.skip.Exception):
        unavailable("no Chromium found", {"CI": "false"})
    for value in ("true", "TRUE", "1"):
        with pytest.raises(pytest.fail.Exception, match="no Chromium found .*CI=true"):
            unavailable("no Chromium found", {"CI": value})


def test_frontend_cache_holds_what_the_page_loads(frontend_cache):
    """The real packages (fetched now if this is a fresh environment) hold the files Solara's page names."""
    for path in ("@widgetti/solara-vuetify3-app@5.2.0/dist/main8.css",
                 "@widgetti/solara-vuetify3-app@5.2.0/dist/solara-vuetify-app8.min.js",
                 "@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/vue-grid-layout.umd.js",
                 "requirejs@2.3.6/require.js", "font-awesome@4.5.0/css/font-awesome.min.css"):
        assert (frontend_cache / path).stat().st_size > 1000, path
    assert frontend.missing_packages(frontend_cache) == []


# --- browser ----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(chromium, frontend_cache, tmp_path_factory):
    """A Solara server for sim/app/ on a free loopback port; stopped after the module."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        demo_cli.solara_command("127.0.0.1", port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, env={
            **os.environ, "KAZSIM_DEMO_SCENARIO": "baseline_2011", "SOLARA_ASSETS_PROXY_CACHE_DIR": str(frontend_cache),
        },
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail(f"the server did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    yield {"url": url, "log": log_path, "process": process}
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


@pytest.fixture(scope="module")
def cdn_failures() -> list[str]:
    """Addresses under /_solara/cdn/ the page failed to load: files the local cache lacks (fatal offline)."""
    return []


@pytest.fixture(scope="module")
def page(server, chromium, cdn_failures):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 720})  # a lecture-hall projector
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)

        def record_cdn_failure(url: str, failed: bool) -> None:
            if failed and "/_solara/cdn/" in url:
                cdn_failures.append(url)

        page.on("response", lambda response: record_cdn_failure(response.url, response.status >= 400))
        page.on("requestfailed", lambda request: record_cdn_failure(request.url, True))
        page.goto(server["url"], timeout=TIMEOUT_MS)
        try:
            page.locator(".kazsim-map-image").first.wait_for(state="visible")
        except sync_api.TimeoutError:
            if cdn_failures:
                pytest.fail(f"the page did not load: front-end files missing from the cache: {cdn_failures}")
            raise
        yield page
        browser.close()


def _image_source(page, selector: str) -> str:
    image = page.locator(f"{selector}").first
    image.wait_for(state="visible")
    return image.evaluate("e => (e.tagName === 'IMG' ? e : e.querySelector('img')).src")


def _day(page) -> int:
    text = page.locator(".kazsim-day").first.inner_text()
    return int(re.search(r"Day (\d+)", text)[1])


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the page")
        time.sleep(0.1)


def _image_size(page, selector: str) -> tuple[int, int]:
    return page.locator(selector).first.evaluate(
        "e => { const i = e.tagName === 'IMG' ? e : e.querySelector('img'); return [i.naturalWidth, i.naturalHeight]; }"
    )


def _choose(page, label: str, option: str) -> None:
    page.locator(".v-select").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).filter(visible=True).first.click()


def _reset_to(page, scenario: str) -> None:
    """A fresh run of ``scenario`` at day 0, from the file's values (choosing a scenario starts it)."""
    other = "no_sweeps" if scenario != "no_sweeps" else "baseline_2011"
    try:
        _choose(page, "Scenario", other)
        _wait_for(lambda: other in page.locator(".kazsim-levers").first.inner_text())
        _choose(page, "Scenario", scenario)
        _wait_for(lambda: scenario in page.locator(".kazsim-levers").first.inner_text() and _day(page) == 0)
    except AssertionError:
        page.screenshot(path=str(ARTIFACTS / "reset-failed.png"))
        raise


@pytest.mark.browser
def test_page_shows_map_timeline_and_guide(page, cdn_failures):
    for selector in (".kazsim-map-image", ".kazsim-timeline-image"):
        _wait_for(lambda s=selector: _image_size(page, s)[0] >= 900)
    for text in ("What you see.", "Exercises.", "Observed 2011 incidents"):
        page.get_by_text(text).first.wait_for(state="visible")  # is_visible() alone races the page's rendering
        assert page.get_by_text(text).first.is_visible()
    assert _day(page) == 0
    assert page.get_by_text("Use Threads").count() == 0 and page.get_by_text("Render Interval").count() == 0
    assert not cdn_failures, f"front-end files missing from sim/frontend.py's PACKAGES: {cdn_failures}"


@pytest.mark.browser
def test_projector_text_sizes_and_every_slider_shows_its_value(page):
    from sim.app.controls import lever_controls, model_params, shown_value

    sizes = page.evaluate("""() => [document.body, ...document.querySelectorAll(
        '.kazsim-app td, .kazsim-app p, .kazsim-control-label, .kazsim-app .v-label, .kazsim-day')]
        .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert min(sizes) >= 16, sizes
    sliders = page.get_by_role("slider")
    params = {name: spec for name, spec in model_params("baseline_2011").items() if spec["type"].startswith("Slider")}
    assert sliders.count() == len(params)
    for name, spec in params.items():
        _, control = lever_controls()[name]
        block = page.locator(f".kazsim-control-{name}")
        assert block.get_by_role("slider").count() == 1
        assert block.locator(".kazsim-control-value").inner_text().strip() == shown_value(control, spec["value"])


@pytest.mark.browser
def test_every_click_counts_and_the_keyboard_drives_the_page(page):
    _reset_to(page, "baseline_2011")
    step = page.locator(".kazsim-step").first
    for _ in range(10):
        step.click()
    _wait_for(lambda: _day(page) == 10, timeout=30)
    time.sleep(0.5)
    assert _day(page) == 10
    step.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    _wait_for(lambda: _day(page) == 12, timeout=30)
    value = page.locator(".kazsim-control-patrol_intensity .kazsim-control-value")
    page.locator(".kazsim-control-patrol_intensity").get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")
    _wait_for(lambda: value.inner_text().strip() == "1.1 × 2011", timeout=30)


@pytest.mark.browser
def test_a_lever_changed_mid_run_is_marked_and_exported(page, server, tmp_path):
    from sim.app import LiveModel
    from sim.run import csv_bytes, simulate
    from sim.scenario import load_scenario

    # People respond to the religion law from law_lead_days before it comes into force: for a response from
    # the next day (6 January) the law must come into force that many days later.
    lead = dt.timedelta(days=round(load_scenario("baseline_2011").parameters.law_lead_days))
    law_date = (dt.date(2011, 1, 6) + lead).isoformat()
    _reset_to(page, "baseline_2011")
    for _ in range(5):
        page.locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(page) == 5)
    before = _image_source(page, ".kazsim-timeline-image")
    page.locator(".kazsim-control-sweeps").get_by_role("checkbox").first.click()
    date_field = page.locator(".kazsim-control-law_date input").first
    date_field.fill("2011-01-06")  # in force tomorrow: the response would have begun on days already simulated
    date_field.press("Enter")
    page.get_by_text("06 Jan: sweeps off").first.wait_for(state="visible")
    _wait_for(lambda: "days already simulated" in page.locator(".kazsim-message").first.inner_text())
    date_field.fill(law_date)
    date_field.press("Enter")
    _wait_for(lambda: law_date in page.locator(".kazsim-control-law_date .kazsim-control-value").inner_text())
    _wait_for(lambda: page.locator(".kazsim-message").count() == 0)
    _wait_for(lambda: _image_source(page, ".kazsim-timeline-image") != before)
    for _ in range(3):
        page.locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(page) == 8)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export this run as a scenario file").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    scenario = load_scenario(path)
    assert scenario.levers.sweeps.enabled and [p.start.isoformat() for p in scenario.levers.sweeps.phases] == [
        "2011-01-06"]
    replay = simulate(scenario, days=8).daily
    assert replay["law_intensity"].iloc[4] == 0 and replay["law_intensity"].iloc[5] > 0  # from the next day
    same = LiveModel("baseline_2011")  # the same changes made in this process
    for day in range(8):
        if day == 5:
            same.change("sweeps", False)
            same.change("law_date", law_date)
        same.step()
    assert csv_bytes(replay) == csv_bytes(same.sim.daily_frame())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
    assert (ARTIFACTS / "app.png").stat().st_size > 10_000


@pytest.mark.browser
def test_bad_value_is_reported_on_screen_and_the_app_keeps_running(page, server):
    _reset_to(page, "baseline_2011")
    date_field = page.locator(".kazsim-control-law_date input").first
    date_field.fill("2011-02-30")
    date_field.press("Enter")
    error = page.locator(".kazsim-input-error").first
    error.wait_for(state="visible")
    message = error.inner_text()
    assert "levers.religion_law.start" in message and "2011-02-30" in message
    page.locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(page) == 1)
    date_field.fill("2011-06-01")
    date_field.press("Enter")
    _wait_for(lambda: page.locator(".kazsim-input-error").count() == 0)
    _wait_for(lambda: "2011-06-01" in page.locator(".kazsim-control-law_date .kazsim-control-value").inner_text())
    assert server["process"].poll() is None
    with urllib.request.urlopen(server["url"], timeout=10) as response:
        assert response.status == 200
    log = server["log"].read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.browser
def test_side_by_side_shows_two_worlds_and_their_difference(page, server):
    _reset_to(page, "baseline_2011")
    page.get_by_role("button", name="Side by side").click()
    page.locator(".kazsim-difference-image").first.wait_for(state="visible")
    assert page.locator(".kazsim-map-image").count() == 2
    for _ in range(3):
        page.locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(page) == 3)
    rows = page.locator(".kazsim-comparison tbody tr")
    assert rows.nth(2).inner_text().split("\t")[1:] == ["+0"] * 5
    page.screenshot(path=str(ARTIFACTS / "app-side-by-side.png"), full_page=True)
    page.get_by_role("button", name="One world").click()
    _wait_for(lambda: page.locator(".kazsim-map-image").count() == 1)


@pytest.mark.browser
def test_epstein_mode(page, server):
    _reset_to(page, "epstein_2002")
    before = _image_source(page, ".kazsim-map-image")
    page.locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(page) == 1)
    _wait_for(lambda: _image_source(page, ".kazsim-map-image") != before)
    page.screenshot(path=str(ARTIFACTS / "app-epstein.png"), full_page=True)
    log = server["log"].read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.browser
def test_two_tabs_have_their_own_runs(page, server):
    browser = page.context.browser
    contexts, tabs = [], []
    for _ in range(2):
        contexts.append(browser.new_context(viewport={"width": 1280, "height": 720}))
        tab = contexts[-1].new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(server["url"])
        tab.locator(".kazsim-step").first.wait_for(state="visible")
        tabs.append(tab)
    for _ in range(4):
        tabs[0].locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(tabs[0]) == 4)
    tabs[1].locator(".kazsim-step").first.click()
    _wait_for(lambda: _day(tabs[1]) == 1)
    time.sleep(0.5)
    assert (_day(tabs[0]), _day(tabs[1])) == (4, 1)
    for context in contexts:
        context.close()


def test_guide_and_teaching_notes_list_the_same_exercises():
    from sim.app import GUIDE

    teaching = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    handout = (ROOT / "docs" / "handout.md").read_text(encoding="utf-8")
    in_guide = re.findall(r"^\d+\. \*([^*]+)\.\*", GUIDE, flags=re.MULTILINE)
    in_notes = re.findall(r"^### \d+\. (.+)$", teaching, flags=re.MULTILINE)
    assert in_guide == in_notes and len(in_guide) >= 5, (in_guide, in_notes)
    for title in in_guide:
        assert title in handout, title
