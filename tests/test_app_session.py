"""The page's sessions without a browser: commands in order, live changes, export, side by side, legible figures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sim.app.difference import DifferenceChart
from sim.app.figures import FULL, HALF, overlapping
from sim.app.live import LiveModel
from sim.app.pump import FramePump
from sim.app.session import Session, Setup
from sim.app.views import painter
from sim.run import csv_bytes, simulate
from sim.scenario import load_scenario


def _session(**setup) -> Session:
    """A session driven in the test's own thread (``run_commands`` instead of the worker thread)."""
    return Session(Setup(**setup))


def test_an_unchanged_timeline_reuses_its_png_and_today_is_laid_over_it():
    session = _session(seed="3")
    session.step()
    session.run_commands()
    first = session.frame
    session.step()
    session.run_commands()
    assert session.frame.timelines[0] is first.timelines[0]  # no incident yet: the same bytes, nothing to send
    (left, top, height), (later, _, _) = first.today[0], session.frame.today[0]
    assert 0 < left < later < 1 and 0 < top < 1 and 0 < height < 1
    assert session.frame.timeline_captions[0].startswith("to 03 Jan 2011: 0 attacks")


def test_every_step_command_counts_and_frames_follow():
    session = _session(seed="3")
    frames = []
    session.subscribe(frames.append)
    for _ in range(10):
        session.step()
    session.run_commands()
    assert session.frame.day == 10 and frames[-1].day == 10
    assert len(session.frame.maps) == 1 and session.frame.maps[0].startswith(b"\x89PNG")


def test_the_worker_thread_plays_and_pauses():
    session = _session(seed="3")
    session.start()
    try:
        for _ in range(5):
            session.step()
        session.set_speed(120)
        session.play()
        deadline = time.monotonic() + 30
        while session.frame.day < 40 and time.monotonic() < deadline:
            time.sleep(0.05)  # frames come by themselves while playing
        session.pause()
        assert session.frame.day >= 40
    finally:
        session.close()


class _Tab:
    """A session as the frame pump sees it: ``frames`` frames to draw, each logged by name."""

    def __init__(self, name: str, frames: int, log: list[str], gate: threading.Event, broken: bool = False):
        self.name, self.left, self.log, self.gate, self.broken = name, frames, log, gate, broken

    def draw_and_publish(self) -> None:
        self.gate.wait(10)
        self.log.append(self.name)
        self.left -= 1
        if self.broken:
            raise RuntimeError("a broken tab")

    @property
    def wants_frame(self) -> bool:
        return self.left > 0


def _wait_for(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_frame_pump_takes_tabs_in_turn_and_a_broken_tab_stops_no_other(caplog):
    log: list[str] = []
    gate = threading.Event()
    tabs = [_Tab("a", 3, log, gate), _Tab("b", 3, log, gate), _Tab("broken", 2, log, gate, broken=True),
            _Tab("c", 3, log, gate)]
    pump = FramePump(threads=1)
    for tab in tabs:
        pump.request(tab)
    pump.request(tabs[0])  # already waiting: not drawn twice for it
    gate.set()
    _wait_for(lambda: len(log) == 11)
    time.sleep(0.1)
    assert log == ["a", "b", "broken", "c"] * 2 + ["a", "b", "c"]  # first come, first served, round after round
    assert caplog.text.count("drawing a frame of a kazsim session failed") == 2


def test_frames_of_a_playing_session_come_through_the_pump_and_stop_when_closed():
    session = _session(seed="3")
    frames: list = []
    session.subscribe(frames.append)
    session.start()
    try:
        session.set_speed(60)
        session.play()
        _wait_for(lambda: session.frame.day >= 30, 30)
        assert session.frame.playing and frames and frames[-1].day >= 30
        assert [f.number for f in frames] == sorted({f.number for f in frames})  # in order, none twice
        session.pause()
        _wait_for(lambda: not frames[-1].playing)
        paused = frames[-1].day
        time.sleep(0.3)
        assert session.frame.day == paused == session.steered.days  # paused means no day goes on
        name, text = session.export()
        assert name == session.export_name() == "baseline_2011_live.toml" and "[period]" in text
    finally:
        session.close()
    drawn = len(frames)
    time.sleep(0.3)
    assert len(frames) == drawn and session._thread is not None and not session._thread.is_alive()


def test_a_live_change_acts_from_the_next_day_and_the_export_replays_the_run(tmp_path: Path):
    session = _session(seed="7")
    session.step(300)  # to 28 October: the religion law has been ramping up for three days
    session.change("religion_law", False)
    session.step(65)
    session.run_commands()
    world = session.steered
    daily = world.sim.daily_frame()
    assert daily["law_intensity"].iloc[299] > 0 and (daily["law_intensity"].iloc[300:] == 0).all()
    assert session.frame.changes == ("28 Oct: religion law off",)
    name, text = session.export()
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    replay = simulate(load_scenario(path))
    assert csv_bytes(replay.daily) == csv_bytes(daily)
    assert csv_bytes(replay.events) == csv_bytes(world.sim.events_frame())


def test_bad_live_values_are_reported_and_the_run_goes_on():
    session = _session()
    session.step(200)
    session.change("raid_lethality", 1.5)
    session.run_commands()
    assert "levers.raids.lethality" in session.frame.message
    session.change("law_date", "2011-03-01")  # before today: it would rewrite the past
    session.run_commands()
    assert "days already simulated" in session.frame.message
    session.change("law_date", "__import__('os')")
    session.run_commands()
    assert "YYYY-MM-DD" in session.frame.message
    session.step()
    session.run_commands()
    assert session.frame.day == 201 and session.steered.spec.levers.raids.lethality == 0.5


def test_side_by_side_worlds_share_the_seed_and_stay_identical_until_a_lever_changes():
    session = _session(side_by_side=True, seed="11")
    session.step(120)
    session.run_commands()
    a, b = session.worlds
    assert a.spec.seed == b.spec.seed == 11
    assert csv_bytes(a.sim.daily_frame()) == csv_bytes(b.sim.daily_frame())
    assert session.frame.comparison[3][1:] == ("+0",) * 5  # B − A
    session.change("sweeps", False)
    session.change("patrol_intensity", 2.0)
    session.step(200)
    session.run_commands()
    first, second = a.sim.daily_frame(), b.sim.daily_frame()
    assert csv_bytes(first.iloc[:120]) == csv_bytes(second.iloc[:120])
    assert csv_bytes(first) != csv_bytes(second)
    assert a.spec.levers.sweeps.enabled and a.spec.levers.sweeps.phases == []
    assert len(session.frame.maps) == 2 and session.frame.difference.startswith(b"\x89PNG")
    assert session.frame.difference_caption.startswith("B − A today: attacks")


def test_side_by_side_with_other_seeds_differs_from_the_first_day():
    session = _session(side_by_side=True, same_seed=False, seed="11")
    session.step(60)
    session.run_commands()
    a, b = session.worlds
    assert (a.spec.seed, b.spec.seed) == (12, 11)
    assert csv_bytes(a.sim.daily_frame()) != csv_bytes(b.sim.daily_frame())


def test_reset_keeps_the_levers_as_set_and_the_epstein_model_has_none():
    session = _session()
    session.step(10)
    session.change("sweeps", False)
    session.run_commands()
    session.reset(session.with_setup(controls=session.frame.controls))
    session.run_commands()
    assert session.frame.day == 0 and not session.steered.spec.levers.sweeps.enabled
    assert session.steered.spec.levers.sweeps.phases == []
    session.reset(Setup(scenario="epstein_2002"))
    session.change("sweeps", True)
    session.step()
    session.run_commands()
    assert session.frame.day == 1 and "no policy levers" in session.frame.message


def test_frames_say_whether_the_levers_can_change_so_the_page_never_asks_the_model_kind():
    session = _session()
    session.run_commands()
    assert session.frame.levers and session.frame.controls
    session.reset(Setup(scenario="epstein_2002"))
    session.run_commands()
    assert not session.frame.levers and session.frame.controls == {}


# --- legible figures ------------------------------------------------------------------------------

def _inside(boxes, width: int, height: int) -> list[str]:
    return [text for text, box in boxes if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5
            or box.y1 > height + 0.5]


@pytest.mark.parametrize("size", [FULL, HALF], ids=["full", "half"])
def test_map_and_timeline_text_never_overlaps_and_stays_in_the_figure(size):
    model = LiveModel(seed="3")
    for day in range(330):
        if day == 200:
            model.change("sweeps", False)
        if day == 201:
            model.change("patrol_intensity", 2.0)
        model.step()
    for role in ("map", "timeline"):
        figure = painter(model, role, size)
        figure.update(model)
        boxes = figure.text_boxes()
        assert len(boxes) > 10, role
        assert overlapping(boxes) == [], role
        assert _inside(boxes, size.width, size.height) == [], role
        sizes = [t.get_fontsize() for t in figure.fig.findobj(lambda a: hasattr(a, "get_fontsize"))
                 if getattr(t, "get_text", lambda: "")()]
        assert min(sizes) >= 9.0, role  # at 100 dpi: 12.5 px or more
    names = " ".join(text for text, _ in painter(model, "map", size).text_boxes())
    assert "Almaty" in names and "Astana" in names and "ATYRAU" in names
    labels = " ".join(text for text, _ in painter(model, "timeline", size).text_boxes())
    assert "religion law" in labels and "sweeps off" in labels and "P04" in labels


def test_difference_chart_text_never_overlaps():
    a, b = LiveModel(seed="3"), LiveModel(seed="3")
    for _ in range(200):
        a.step()
        b.step()
    chart = DifferenceChart(a, b)
    chart.update_pair(a, b)
    boxes = chart.text_boxes()
    assert overlapping(boxes) == [] and _inside(boxes, FULL.width, FULL.height) == []
    assert chart.caption_pair(a, b) == "B − A today: attacks +0 · deaths +0 · sympathisers (1000s) +0"


def test_the_map_shades_cells_by_sympathy():
    model = LiveModel(seed="3")
    for _ in range(200):
        model.step()
    figure = painter(model, "map", FULL)
    figure.update(model)
    pixels = figure.pixels().copy()
    where, cells = figure.raster
    flat = pixels.reshape(-1, 4)
    darkest = cells[np.argmax(figure.share[cells])]
    assert flat[where[cells == darkest], :3].mean() < flat[where[figure.share[cells] == 0], :3].mean()


def test_a_panel_of_world_b_reads_nothing_from_a_one_world_frame():
    from sim.app.page import _of_world

    session = _session(side_by_side=True, seed="3")
    two = session.frame
    session.reset(session.with_setup(side_by_side=False))
    session.run_commands()
    one = session.frame
    assert _of_world(two, 1, "maps", "map_captions") == (two.maps[1], two.map_captions[1])
    assert _of_world(one, 1, "timelines", "timeline_captions", "today") is None
    assert _of_world(one, 0, "maps")[0].startswith(b"\x89PNG")
