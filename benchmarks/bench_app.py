"""Is the teaching page fast enough for a classroom? Simulated days per second in a real browser, and more.

Run: ``uv run python benchmarks/bench_app.py [--speeds 30 120] [--sessions 30]``

It starts ``kazsim demo`` on a free 127.0.0.1 port and drives the page in Chromium (Playwright; the browser
the tests use) at 1280×720, then reports, against the targets of the teaching page:

* start-up: from launching ``kazsim demo`` to a page whose Step button answers (target ≤ 15 s);
* clicks: ten quick clicks on Step must reach day 10 (no lost click);
* play: a whole year at each speed, the days per second the page's day counter shows and the year's
  wall-clock time (targets ≥ 20 days/s, a year ≤ 30 s), national default scale; then side by side;
* with ``--sessions N``: N browser tabs (each its own session) playing at once at 20 days/s, the days per
  second each shows once all are playing (target ≥ 10 in every tab), and the errors seen;
* offscreen, for reference: one step plus drawing the map and timeline PNGs, per day.

Wall-clock figures depend on machine load: on a shared machine run it twice and compare.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
TARGET_DAYS_PER_SECOND, TARGET_YEAR_SECONDS, TARGET_START_SECONDS, TARGET_PER_SESSION = 20.0, 30.0, 15.0, 10.0
SESSION_SPEED, SESSION_SETTLE = 20, 5.0  # days/s each tab plays at; seconds all play before measuring


def free_port() -> int:
    """A free port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def day(page) -> int:
    """The day counter the page shows."""
    return int(re.search(r"Day (\d+)", page.locator(".kazsim-day").first.inner_text())[1])


def wait_until(predicate, timeout: float) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def open_page(browser, url: str):
    """A new tab (its own browser context: its own session) on the page, once interactive."""
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.locator(".kazsim-step").first.wait_for(state="visible")
    return page


def choose_speed(page, speed: int) -> None:
    """Set the speed select to ``speed`` days per second."""
    page.locator(".kazsim-speed").first.click()
    page.get_by_role("option", name=f"{speed} days/s", exact=True).filter(visible=True).first.click()


def play_year(page, speed: int, limit: float = 120.0) -> tuple[float, float]:
    """Play from day 0 to the end at ``speed``; returns (days per second, seconds for the year)."""
    choose_speed(page, speed)
    page.locator(".kazsim-reset").first.click()
    wait_until(lambda: day(page) == 0, 30)
    start = time.monotonic()
    page.locator(".kazsim-play").first.click()
    wait_until(lambda: day(page) >= 365, limit)
    seconds = time.monotonic() - start
    return day(page) / seconds, seconds


def sessions_at_once(browser, url: str, count: int, seconds: float, speed: int = SESSION_SPEED,
                     settle: float = SESSION_SETTLE) -> tuple[list[float], list[str]]:
    """``count`` tabs playing together at ``speed``: each tab's days per second, and the page errors seen.

    The rates are measured over ``seconds`` once every tab has played for ``settle`` seconds.
    """
    errors: list[str] = []
    pages = []
    for _ in range(count):
        page = open_page(browser, url)
        page.on("pageerror", lambda error: errors.append(str(error)))
        pages.append(page)
    for page in pages:
        choose_speed(page, speed)
    for page in pages:
        page.locator(".kazsim-play").first.click()
    time.sleep(settle)
    samples: list[list[tuple[float, int]]] = [[] for _ in pages]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for series, page in zip(samples, pages, strict=True):
            series.append((time.monotonic(), day(page)))
    rates = []
    for series in samples:  # while the year was running: a tab that reached day 365 stops there
        running = [sample for sample in series if sample[1] < 365] or series[:1]
        (t0, first), (t1, last) = running[0], next((s for s in series if s[1] >= 365), running[-1])
        rates.append((last - first) / (t1 - t0) if t1 > t0 else 0.0)
    for page in pages:
        page.context.close()
    return rates, errors


def offscreen_per_day(days: int = 120) -> tuple[float, float]:
    """Median ms of one step, and of drawing the map and timeline PNGs, per day (no browser)."""
    from sim.app import LiveModel, map_png, timeline_png

    model = LiveModel()
    map_png(model)
    timeline_png(model)
    steps, draws = [], []
    for _ in range(days):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        map_png(model)
        timeline_png(model)
        steps.append(t1 - t0)
        draws.append(time.perf_counter() - t1)
    return statistics.median(steps) * 1000, statistics.median(draws) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", type=int, nargs="+", default=[30, 120])
    parser.add_argument("--sessions", type=int, default=0, help="tabs playing at once (0: skip)")
    parser.add_argument("--session-seconds", type=float, default=10.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from test_app import CHROMIUM_ARGS, find_chromium

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    launched = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "sim.cli", "demo", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: _answers(url), 120)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=find_chromium(os.environ), args=CHROMIUM_ARGS)
            page = open_page(browser, url)
            start_up = time.monotonic() - launched
            print(f"start-up to an interactive page: {start_up:.1f} s (target <= {TARGET_START_SECONDS:.0f} s) -> "
                  f"{'met' if start_up <= TARGET_START_SECONDS else 'NOT MET'}")
            for _ in range(10):
                page.locator(".kazsim-step").first.click()
            reached = wait_until(lambda: day(page) == 10, 30) and (time.sleep(0.5) or day(page) == 10)
            print(f"10 Step clicks -> day {day(page)} ({'no click lost' if reached else 'CLICKS LOST'})")
            for speed in args.speeds:
                rate, seconds = play_year(page, speed)
                verdict = "met" if rate >= TARGET_DAYS_PER_SECOND and seconds <= TARGET_YEAR_SECONDS else "NOT MET"
                print(f"play at {speed} days/s: {rate:.1f} simulated days/s in the browser, a year in {seconds:.1f} s "
                      f"(targets >= {TARGET_DAYS_PER_SECOND:.0f} days/s, <= {TARGET_YEAR_SECONDS:.0f} s) -> {verdict}")
            page.get_by_role("button", name="Side by side").click()
            page.locator(".kazsim-difference-image").first.wait_for(state="visible")
            rate, seconds = play_year(page, 30)
            print(f"side by side at 30 days/s: {rate:.1f} simulated days/s in the browser (two worlds), a year in "
                  f"{seconds:.1f} s -> {'met' if rate >= TARGET_DAYS_PER_SECOND else 'NOT MET'}")
            page.context.close()
            if args.sessions:
                rates, errors = sessions_at_once(browser, url, args.sessions, args.session_seconds)
                verdict = "met" if min(rates) >= TARGET_PER_SESSION and not errors else "NOT MET"
                print(f"{args.sessions} tabs playing at once at {SESSION_SPEED} days/s ({args.session_seconds:.0f} s "
                      f"measured after {SESSION_SETTLE:.0f} s): days/s per tab min {min(rates):.1f}, median "
                      f"{statistics.median(rates):.1f}, max {max(rates):.1f}; {len(errors)} page errors "
                      f"(target >= {TARGET_PER_SESSION:.0f} each) -> {verdict}")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    step_ms, draw_ms = offscreen_per_day()
    print(f"offscreen per day: step {step_ms:.2f} ms, map + timeline PNGs {draw_ms:.1f} ms (drawn at most ten "
          "times a second while playing)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores; other jobs share them)")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
