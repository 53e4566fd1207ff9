"""Figures drawn once and then updated: the painters' common base, the palette, labels that never overlap.

The page projects in a lecture hall: figures are drawn at the pixel size they are shown at on a 1280×720
screen (``FULL`` for one world, ``HALF`` for two side by side), with text of at least 10 points at 100 dpi
(14 px; 9 points in the half-width figures), in the Okabe–Ito palette, which readers with any common
colour-vision deficiency can tell apart.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image as PILImage

from sim.app.live import LiveModel

#: Okabe & Ito (2008), colours distinguishable with any common colour-vision deficiency.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
OBSERVED_GREY = "#8c8c8c"
DPI = 100


@dataclass(frozen=True)
class FigureSize:
    """A figure's size in pixels and its text sizes in points (at :data:`DPI`)."""

    width: int
    height: int
    text: float
    small: float
    title: float

    @property
    def compact(self) -> bool:
        """Whether this is the half-width size of the side-by-side view."""
        return self.width < 700


FULL = FigureSize(900, 440, text=12.0, small=11.0, title=13.0)
HALF = FigureSize(460, 380, text=10.5, small=10.0, title=11.0)


def new_figure(size: FigureSize = FULL) -> Figure:
    """An offscreen figure of ``size`` pixels."""
    fig = Figure(figsize=(size.width / DPI, size.height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def encode_png(rgba: np.ndarray) -> bytes:
    """An RGBA pixel buffer as PNG bytes (RGB: figures are opaque; fastest compression)."""
    buffer = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


class Painter:
    """A figure drawn once; after each step only its moving artists are redrawn (blitting).

    Subclasses build ``fig``, call :meth:`_animate` with the artists that change from day to day, and
    set ``background = None`` in :meth:`update` when a static part changed (the next frame redraws all).
    """

    fig: Figure
    moving: list
    size: FigureSize = FULL

    def _animate(self, artists: Iterable) -> None:
        self.moving = list(artists)
        for artist in self.moving:
            artist.set_animated(True)
        self.background = None

    def png(self, model: LiveModel) -> bytes:
        """The current day as PNG bytes (the last ones again when nothing drawn has changed)."""
        self.update(model)
        if self.unchanged and self.last_png:
            return self.last_png
        self.last_png = encode_png(self.pixels())
        return self.last_png

    #: Set by :meth:`update` when the figure looks as it did at the last :meth:`png`.
    unchanged: bool = False
    last_png: bytes = b""

    def caption(self, model: LiveModel) -> str:
        """The line the page shows above the figure (text that changes daily is the page's, not the PNG's)."""
        return ""

    def pixels(self) -> np.ndarray:
        """The figure as drawn now: an RGBA array (a view of the canvas, valid until the next draw)."""
        canvas = self.fig.canvas
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        self._paint(np.asarray(canvas.buffer_rgba()))
        for artist in self.moving:
            self.fig.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())

    def _paint(self, rgba: np.ndarray) -> None:
        """Write pixels straight into the canvas before the moving artists are drawn (none by default)."""

    def update(self, model: LiveModel) -> Figure:  # pragma: no cover - overridden
        """Bring the moving artists to the current day; returns the figure."""
        raise NotImplementedError

    def text_boxes(self) -> list[tuple[str, Bbox]]:
        """Every text the figure draws now, with its extent in pixels (for overlap checks)."""
        self.background = None
        with recording_texts() as drawn:
            self.pixels()
        return drawn + list(getattr(self, "baked_texts", []))


@contextmanager
def recording_texts() -> Iterator[list[tuple[str, Bbox]]]:
    """Record every non-empty text drawn meanwhile, with its extent in pixels."""
    drawn: list[tuple[str, Bbox]] = []
    draw = Text.draw

    def record(text: Text, renderer) -> None:
        if text.get_visible() and text.get_text().strip():
            drawn.append((text.get_text(), text.get_window_extent(renderer)))
        draw(text, renderer)

    Text.draw = record
    try:
        yield drawn
    finally:
        Text.draw = draw


def overlapping(boxes: list[tuple[str, Bbox]], padding: float = 0.0) -> list[tuple[str, str]]:
    """The pairs of texts whose extents overlap (after shrinking each by ``padding`` pixels)."""
    pairs = []
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1:]:
            if (min(a.x1, b.x1) - max(a.x0, b.x0) > 2 * padding) and (min(a.y1, b.y1) - max(a.y0, b.y0) > 2 * padding):
                pairs.append((first, second))
    return pairs


#: Where a point's label may go, in order of preference: offset in points and alignment.
AROUND = ((5, 0, "left", "center"), (-5, 0, "right", "center"), (0, 5, "center", "bottom"),
          (0, -5, "center", "top"), (4, 4, "left", "bottom"), (-4, 4, "right", "bottom"),
          (4, -4, "left", "top"), (-4, -4, "right", "top"))
CENTRED = ((0, 0, "center", "center"), (0, 8, "center", "bottom"), (0, -8, "center", "top"),
           (10, 0, "left", "center"), (-10, 0, "right", "center"))


def place_labels(fig: Figure, labels: Iterable[tuple[Text, tuple]], area: Bbox,
                 taken: list[Bbox] | None = None, gap: float = 2.0) -> list[Text]:
    """Keep each label (an annotation) at the first of its placements where it overlaps no label kept before.

    A placement is an offset in points and an alignment (:data:`AROUND`, :data:`CENTRED`). Labels come in
    order of importance; one that fits nowhere inside ``area`` (pixels) is removed. Returns the labels kept.
    """
    renderer = fig.canvas.get_renderer()
    taken = list(taken or [])
    kept = []
    for text, placements in labels:
        for dx, dy, ha, va in placements:
            text.set_position((dx, dy))
            text.set_horizontalalignment(ha)
            text.set_verticalalignment(va)
            box = text.get_window_extent(renderer).padded(gap)
            inside = area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                kept.append(text)
                break
        else:
            text.remove()
    return kept


def lanes(fig: Figure, texts: list[tuple[float, Text]], lane_height: float, max_lanes: int,
          gap: float = 4.0) -> list[Text]:
    """Stack texts anchored at pixel x positions into lanes so that none overlaps; returns the texts kept.

    ``texts`` are (x, text) pairs in order of importance; each goes into the lowest lane where it overlaps
    no text placed before, and its y position is set to that lane's offset (0 is the lowest). A text that
    fits in no lane is removed.
    """
    renderer = fig.canvas.get_renderer()
    right_edge = fig.bbox.x1 - 2
    placed: list[list[tuple[float, float]]] = [[] for _ in range(max_lanes)]
    kept = []
    for x, text in texts:
        width = text.get_window_extent(renderer).width
        if x + width > right_edge:  # no room right of its line: the text ends at the line instead
            x = x - width - 2 * gap
            text.set_x(x)
        end = x + width
        lane = next((k for k in range(max_lanes)
                     if all(end + gap <= left or right + gap <= x for left, right in placed[k])), None)
        if lane is None:
            text.remove()
            continue
        placed[lane].append((x, end))
        text.set_y(lane * lane_height)
        kept.append(text)
    return kept


class Layer:
    """Static RGBA pixels laid over a canvas: only the pixels it covers, blended with their own opacity."""

    def __init__(self, rgba: np.ndarray) -> None:
        """Keep the pixels of ``rgba`` (a canvas-sized RGBA array) that are not fully transparent."""
        flat = rgba.reshape(-1, 4)
        self.where = np.flatnonzero(flat[:, 3] > 0)
        alpha = flat[self.where, 3:4].astype(np.float32) / 255.0
        self.keep = 1.0 - alpha
        self.add = flat[self.where, :3].astype(np.float32) * alpha  # Agg's buffer is not premultiplied

    def over(self, rgba: np.ndarray) -> None:
        """Blend the layer over ``rgba`` in place."""
        flat = rgba.reshape(-1, 4)
        below = flat[self.where, :3].astype(np.float32)
        flat[self.where, :3] = (below * self.keep + self.add + 0.5).astype(np.uint8)


def baked_layer(size: FigureSize, rect: tuple[float, float, float, float], limits: tuple[float, float, float, float],
                aspect: float | str, anchor: str, draw: Callable) -> tuple[np.ndarray, list[tuple[str, Bbox]]]:
    """A transparent layer of static artists over an axes (drawn by ``draw(fig, ax)``), as RGBA pixels.

    Laid over a moving image as a :class:`Layer`, it costs one blend a frame instead of drawing every line and
    label again. Returns the pixels and the texts drawn on it with their extents.
    """
    fig = new_figure(size)
    fig.patch.set_alpha(0.0)
    ax = fig.add_axes(rect)
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    ax.set_aspect(aspect)
    ax.set_anchor(anchor)
    ax.set_axis_off()
    fig.canvas.draw()  # fixes the axes' box (aspect) before labels are placed inside it
    draw(fig, ax)
    with recording_texts() as drawn:
        fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy(), drawn


def render_png(figure: Figure) -> bytes:
    """A whole figure as PNG bytes (full redraw, animated artists included)."""
    animated = [artist for artist in figure.findobj() if artist.get_animated()]
    for artist in animated:
        artist.set_animated(False)
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png")
    finally:
        for artist in animated:
            artist.set_animated(True)
    return buffer.getvalue()
