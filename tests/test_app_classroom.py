"""A classroom on one server: 30 browser tabs, each its own session, playing at once on loopback (bounded).

The days per second each tab reached are printed and written to tests/artifacts/classroom.txt (timings are
reported, not asserted: benchmarks/bench_app.py holds them against the targets). The test asserts what must
hold on any machine: every tab plays its own run, no tab sees an error, and the server stays up and clean.
"""

from __future__ import annotations

import statistics
import time

import pytest

from test_app import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, _day, chromium, frontend_cache, server  # noqa: F401

SESSIONS = 30
SPEED = 20  # days per second: a year takes 18 s, long enough to measure after every tab has started
SETTLE_SECONDS, PLAY_SECONDS = 5.0, 10.0
#: How long the last tabs may take to start playing on a loaded server.
START_TIMEOUT_S = 120.0
YEAR = 365


def sample_days(tabs: list, seconds: float) -> list[list[tuple[float, int]]]:
    """Each tab's (time, day shown) read round after round for ``seconds``."""
    samples: list[list[tuple[float, int]]] = [[] for _ in tabs]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for series, tab in zip(samples, tabs, strict=True):
            series.append((time.monotonic(), _day(tab)))
    return samples


def days_per_second(series: list[tuple[float, int]]) -> float:
    """Simulated days per second a tab showed while its year was still running (a year ends at day 365)."""
    running = [sample for sample in series if sample[1] < YEAR] or series[:1]
    last = next((sample for sample in series if sample[1] >= YEAR), running[-1])  # the first sample at the end
    (t0, first), (t1, day) = running[0], last
    return (day - first) / (t1 - t0) if t1 > t0 else 0.0


@pytest.mark.slow
@pytest.mark.browser
def test_thirty_sessions_play_at_once_without_errors(server, chromium):  # noqa: F811
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        tabs = []
        for _ in range(SESSIONS):
            tab = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.goto(server["url"])
            tab.locator(".kazsim-play").first.wait_for(state="visible")
            tabs.append(tab)
        for tab in tabs:
            tab.locator(".kazsim-speed").first.click()
            tab.get_by_role("option", name=f"{SPEED} days/s", exact=True).filter(visible=True).first.click()
        started = []  # (time, day) when each tab's Play was pressed
        for tab in tabs:
            tab.locator(".kazsim-play").first.click()
            started.append((time.monotonic(), _day(tab)))
        # A loaded server takes a while to answer the last clicks (on a machine 3x slower than usual the last dozen
        # tabs showed Play for over 15 s): wait until every tab's day has moved on; a lost click fails below.
        waiting, deadline = set(range(len(tabs))), time.monotonic() + START_TIMEOUT_S
        while waiting and time.monotonic() < deadline:
            waiting = {index for index in waiting if _day(tabs[index]) <= started[index][1]}
        all_playing = time.monotonic() - started[-1][0]
        time.sleep(SETTLE_SECONDS)  # every tab playing: the rate measured next is the steady one
        # On a slow machine the first tabs can finish their year before the last Play is pressed: each series starts
        # at its Play, so such a tab's rate is its whole year's (a lower bound), never a 0 from an already-ended run.
        samples = [[first, *series] for first, series in zip(started, sample_days(tabs, PLAY_SECONDS), strict=True)]
        stuck = {index: (series[0][1], series[-1][1], tabs[index].locator(".kazsim-play").first.inner_text())
                 for index, series in enumerate(samples) if series[-1][1] <= series[0][1]}
        browser.close()
    rates = [days_per_second(series) for series in samples]
    report = (f"{SESSIONS} sessions playing at {SPEED} days/s, measured for {PLAY_SECONDS:.0f} s after "
              f"{SETTLE_SECONDS:.0f} s: simulated days/s per session "
              f"min {min(rates):.1f}, median {statistics.median(rates):.1f}, max {max(rates):.1f}; "
              f"{len(errors)} page errors; every tab played {all_playing:.1f} s after the last Play was pressed")
    print(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "classroom.txt").write_text(report + "\n", encoding="utf-8")
    assert not errors, errors[:5]
    assert not stuck, f"tabs that did not advance (day at Play, day at the end, Play button): {stuck}"
    assert server["process"].poll() is None
    log = server["log"].read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
