"""One browser tab's runs: one world or two side by side, advanced by a play loop of their own.

Every control of the page becomes a command in the session's queue, which one worker thread carries out in
order: no click is lost. While playing, the thread steps as many days as the wall clock asks for at the chosen
speed and asks the server's frame pump (``sim.app.pump``) for a frame, at most ten a second; drawing is the
expensive part, so on a busy machine frames come less often, shared fairly between tabs, while the simulated
days per second hold.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from sim.app.controls import DEFAULT_SCENARIO, describe_change, values_in_force
from sim.app.difference import DifferenceChart, comparison_rows
from sim.app.figures import FULL, HALF
from sim.app.live import LiveModel
from sim.app.pump import frame_pump
from sim.app.views import painter, view_of
from sim.errors import KazsimInputError
from sim.scenario import scenario_toml

logger = logging.getLogger(__name__)

SPEEDS = (5, 10, 20, 30, 60, 120)  # simulated days per second
DEFAULT_SPEED = 30
FRAME_SECONDS = 0.1  # at most ten frames a second: the days in between are simulated, not drawn


@dataclass(frozen=True)
class Setup:
    """What a Reset starts: the scenario, the seed as typed, lever values, one world or two."""

    scenario: str = DEFAULT_SCENARIO
    seed: str = ""
    controls: Mapping[str, Any] = field(default_factory=dict)
    side_by_side: bool = False
    same_seed: bool = True
    flash_days: int = 30


@dataclass(frozen=True)
class Incident:
    """A simulated incident as the page lists it."""

    date: dt.date
    kind: str
    place: str
    region: str
    deaths: int


@dataclass(frozen=True)
class Frame:
    """Everything the page shows of the session at one moment."""

    number: int
    setup: Setup
    day: int
    days: int
    date: dt.date
    model: str
    seed: int
    #: whether the steered world's levers can change during the run (its controls and the export are shown)
    levers: bool
    playing: bool
    speed: int
    maps: tuple[bytes, ...] = ()
    timelines: tuple[bytes, ...] = ()
    map_captions: tuple[str, ...] = ()
    timeline_captions: tuple[str, ...] = ()
    today: tuple[tuple[float, float, float] | None, ...] = ()
    difference: bytes | None = None
    difference_caption: str = ""
    comparison: tuple[tuple[str, ...], ...] = ()
    controls: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    changes: tuple[str, ...] = ()
    incidents: tuple[Incident, ...] = ()
    message: str | None = None


class Session:
    """The runs of one browser tab and the thread that advances and draws them."""

    def __init__(self, setup: Setup | None = None, context: Any = None) -> None:
        """Build the worlds of ``setup``; :meth:`start` begins the play loop.

        Args:
            setup: what to run (default: the default scenario, one world).
            context: entered by the worker thread around everything it does (the page's kernel context,
                so that frames reach this tab).
        """
        self.context = context
        self.speed = DEFAULT_SPEED
        self.playing = False
        self.message: str | None = None
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._listeners: list[Callable[[Frame], None]] = []
        self._lock = threading.Lock()
        self._world_lock = threading.RLock()  # the worker's steps and the pump's drawing take turns
        self._thread: threading.Thread | None = None
        self._number = 0
        self._build(setup or Setup())
        self.frame = self._draw()

    # --- commands (any thread) -----------------------------------------------------------------
    def step(self, days: int = 1) -> None:
        """Advance ``days`` days (pausing play)."""
        self._commands.put(("step", days))

    def play(self) -> None:
        """Play from the current day at the chosen speed."""
        self._commands.put(("play",))

    def pause(self) -> None:
        """Stop playing."""
        self._commands.put(("pause",))

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        self._commands.put(("toggle",))

    def set_speed(self, days_per_second: int) -> None:
        """Play at ``days_per_second`` (one of :data:`SPEEDS`)."""
        self._commands.put(("speed", days_per_second))

    def change(self, name: str, value: Any) -> None:
        """Set a lever control in the steered world from the next day on."""
        self._commands.put(("change", name, value))

    def reset(self, setup: Setup) -> None:
        """Start new worlds from ``setup``."""
        self._commands.put(("reset", setup))

    def subscribe(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        """Call ``listener`` with every new frame (from the worker thread); returns the unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def export_name(self) -> str:
        """The file name :meth:`export` gives the steered world's run."""
        return f"{self.steered.spec.name}_live.toml"

    def export(self) -> tuple[str, str]:
        """The steered world's run as a scenario file: its file name and TOML text (replays the run exactly).

        Taken between two of the worker's commands or played days, so a change being made is in or out whole.
        """
        with self._world_lock:
            spec = self.steered.spec
            days = self.steered.days
        name = f"{spec.name}_live"
        spec = spec.model_copy(update={"name": name, "posterior": None})
        comment = (f"The run of {self.setup.scenario} (seed {spec.seed}) on the kazsim teaching page, exported on "
                   f"{dt.date.today()} at day {days}; each lever change made during the run is a dated "
                   f"phase.\nReplay it: uv run kazsim run {name}.toml --parameters scenario --seed {spec.seed}")
        return f"{name}.toml", scenario_toml(spec, comment)

    # --- the worker thread ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kazsim-session", daemon=True)
            self._thread.start()

    def close(self, wait: float = 5.0) -> None:
        """Stop the worker thread (waiting at most ``wait`` seconds); no frame is published after this."""
        self._closed = True
        self._commands.put(("close",))
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    def run_commands(self) -> None:
        """Carry out every queued command now, in this thread, and publish a frame (without a worker thread)."""
        while self._handle_queued():
            pass
        self._publish()

    def _run(self) -> None:
        pump = frame_pump()
        while True:
            try:
                command = self._commands.get(timeout=FRAME_SECONDS if self.playing else None)
            except queue.Empty:
                command = None
            if command is not None:
                with self._world_lock:
                    going = self._do(command)
                    while going and (command := self._next_command()) is not None:  # all clicked meanwhile
                        going = self._do(command)
                if not going or self._closed:
                    return
            if self.playing:
                with self._world_lock:
                    self._advance_by_clock()
            if self.playing or self._dirty:
                pump.request(self)

    def draw_and_publish(self) -> None:
        """Bring a playing run to the clock, draw its frame and hand it to the page (the pump's threads call this)."""
        with self.context if self.context is not None else nullcontext():
            with self._world_lock:
                if self._closed:
                    return
                if self.playing:
                    self._advance_by_clock()
                frame = self._redraw()
            self._notify(frame)  # outside the lock: the worker goes on with the clicks meanwhile

    _closed = False
    _dirty = False

    @property
    def wants_frame(self) -> bool:
        """Whether a command or a played day changed the worlds since the last frame."""
        return self._dirty and not self._closed

    def _next_command(self) -> tuple | None:
        try:
            return self._commands.get_nowait()
        except queue.Empty:
            return None

    def _handle_queued(self) -> bool:
        command = self._next_command()
        if command is None:
            return False
        if not self._do(command):
            self._closed = True
            return False
        return True

    def _do(self, command: tuple) -> bool:
        """Carry out one command; returns False for ``close``."""
        kind, *args = command
        self._dirty = True
        if kind == "close":
            return False
        try:
            if kind == "step":
                self.playing = False
                for _ in range(max(0, int(args[0]))):
                    self._step_all()
            elif kind in ("play", "pause", "toggle"):
                self._set_playing(kind == "play" or (kind == "toggle" and not self.playing))
            elif kind == "speed":
                self.speed = args[0] if args[0] in SPEEDS else DEFAULT_SPEED
                self._set_playing(self.playing)
            elif kind == "change":
                self.message = None
                self.steered.change(*args)
            elif kind == "reset":
                self.playing = False
                self._build(args[0])
        except KazsimInputError as error:
            self.message = f"Not applied: {error}"
        return True

    def _set_playing(self, playing: bool) -> None:
        self.playing = playing and not self.steered.finished
        self._clock = (time.monotonic(), self.steered.days)

    def _advance_by_clock(self) -> None:
        started, first_day = self._clock
        due = first_day + int((time.monotonic() - started) * self.speed)
        while self.steered.days < due and not self.steered.finished:
            self._step_all()
            self._dirty = True
        if self.steered.finished:
            self._dirty = self._dirty or self.playing
            self.playing = False

    def _step_all(self) -> None:
        for world in self.worlds:
            world.step()

    # --- worlds and frames ---------------------------------------------------------------------
    def _build(self, setup: Setup) -> None:
        self.setup = setup
        steered = LiveModel(setup.scenario, setup.seed, setup.flash_days, **dict(setup.controls))
        self.message = steered.input_error
        self.worlds: list[LiveModel] = [steered]
        if setup.side_by_side:
            seed = str(steered.spec.seed if setup.same_seed else steered.spec.seed + 1)
            reference = LiveModel(steered.spec.name, seed, setup.flash_days)
            self.worlds = [reference, steered]
        self.chart = DifferenceChart(*self.worlds) if len(self.worlds) == 2 and view_of(steered).incidents else None

    @property
    def steered(self) -> LiveModel:
        """The world the lever controls change (world B side by side)."""
        return self.worlds[-1]

    def _draw(self) -> Frame:
        size = HALF if len(self.worlds) == 2 else FULL
        steered = self.steered
        spec = steered.spec
        national = view_of(steered).incidents
        levers = steered.changes_policy
        maps = [painter(world, "map", size) for world in self.worlds]
        timelines = [painter(world, "timeline", size) for world in self.worlds]
        self._number += 1
        return Frame(
            number=self._number, setup=self.setup, day=steered.days, days=spec.period.days, date=steered.date,
            model=spec.model, seed=spec.seed, levers=levers, playing=self.playing, speed=self.speed,
            maps=tuple(p.png(w) for p, w in zip(maps, self.worlds, strict=True)),
            timelines=tuple(p.png(w) for p, w in zip(timelines, self.worlds, strict=True)),
            map_captions=tuple(p.caption(w) for p, w in zip(maps, self.worlds, strict=True)),
            timeline_captions=tuple(p.caption(w) for p, w in zip(timelines, self.worlds, strict=True)),
            today=tuple(p.today(w) if hasattr(p, "today") else None for p, w in zip(timelines, self.worlds,
                                                                                  strict=True)),
            difference=self.chart.png_pair(*self.worlds) if self.chart else None,
            difference_caption=self.chart.caption_pair(*self.worlds) if self.chart else "",
            comparison=comparison_rows(*self.worlds) if self.chart else (),
            controls=values_in_force(spec, steered.date) if levers else {},
            summary=view_of(steered).summary(spec),
            changes=tuple(f"{phase.start:%d %b}: {describe_change(name, phase.changes())}"
                          for name, settings in spec.levers for phase in getattr(settings, "phases", ())),
            incidents=tuple(Incident(e.date, e.kind, e.place, e.region, e.deaths)
                            for e in steered.sim.events.events[-8:][::-1]) if national else (),
            message=self.message,
        )

    def _redraw(self) -> Frame:
        self.frame = self._draw()
        self._dirty = False
        return self.frame

    def _notify(self, frame: Frame) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            if self._closed:
                return
            try:
                listener(frame)
            except Exception:  # a closed tab must not stop the session
                logger.exception("a listener of the kazsim session failed")

    def _publish(self) -> None:
        if not self._closed:
            self._notify(self._redraw())

    def with_setup(self, **changes: Any) -> Setup:
        """The current setup with ``changes`` (for the page's Reset)."""
        return replace(self.setup, **changes)
