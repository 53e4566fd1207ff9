"""Drawing the frames of every tab in turn: a fair share of the machine for each session.

Each session's worker thread simulates its days by the clock and asks for a frame; the pump's threads draw
and send the frames one session at a time, in the order asked. With many tabs playing, every tab then gets
frames at the same, slower pace (days go on by the clock in between), instead of some tabs starving while
others draw ten frames a second. Two threads: while one encodes a PNG (which releases the interpreter lock),
the other can draw.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

logger = logging.getLogger(__name__)
THREADS = 2


class Drawn(Protocol):
    """What the pump draws: a session that can draw and publish its current frame."""

    def draw_and_publish(self) -> None:
        """Draw the current frame and hand it to the page."""

    @property
    def wants_frame(self) -> bool:
        """Whether something changed since the last frame was drawn."""


class FramePump:
    """Draw threads shared by all sessions of the server, taking sessions first come, first served."""

    def __init__(self, threads: int = THREADS) -> None:
        """Start the daemon threads that draw the sessions' frames.

        Args:
            threads: how many frames may be drawn at once.
        """
        self._queue: queue.SimpleQueue[Drawn] = queue.SimpleQueue()
        self._waiting: set[int] = set()
        self._lock = threading.Lock()
        for index in range(threads):
            threading.Thread(target=self._run, name=f"kazsim-frames-{index}", daemon=True).start()

    def request(self, session: Drawn) -> None:
        """Ask for a frame of ``session`` (any thread).

        Nothing happens if one is already waiting or being drawn: a session asking again while its frame is
        drawn gets a fresh one right after, as :attr:`Drawn.wants_frame` then holds.
        """
        with self._lock:
            if id(session) in self._waiting:
                return
            self._waiting.add(id(session))
        self._queue.put(session)

    def _run(self) -> None:
        while True:
            session = self._queue.get()
            try:
                session.draw_and_publish()
            except Exception:  # one broken tab must not stop the frames of the others
                logger.exception("drawing a frame of a kazsim session failed")
            finally:
                with self._lock:
                    self._waiting.discard(id(session))
            if session.wants_frame:  # asked for again while this frame was drawn: that request was dropped
                self.request(session)


_pump: FramePump | None = None
_pump_lock = threading.Lock()


def frame_pump() -> FramePump:
    """The server's one pump (started on first use)."""
    global _pump
    with _pump_lock:
        if _pump is None:
            _pump = FramePump()
        return _pump
