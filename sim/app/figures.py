"""Figures drawn once and then updated: the painters' common base, and a full render to PNG."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from sim.app.live import LiveModel


def new_figure() -> Figure:
    """An offscreen figure of the page's size."""
    fig = Figure(figsize=(7.6, 4.2), dpi=80)
    FigureCanvasAgg(fig)
    return fig


class Painter:
    """A figure drawn once; after each step only its moving artists are redrawn (blitting)."""

    fig: Figure
    moving: list

    def _animate(self, artists: list) -> None:
        self.moving = list(artists)
        for artist in self.moving:
            artist.set_animated(True)
        self.background = None

    def png(self, model: LiveModel) -> bytes:
        """The current day as PNG bytes."""
        self.update(model)
        canvas = self.fig.canvas
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        width, height = canvas.get_width_height()
        image = PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def update(self, model: LiveModel) -> Figure:  # pragma: no cover - overridden
        """Bring the moving artists to the current day; returns the figure."""
        raise NotImplementedError


def render_png(figure: Figure) -> bytes:
    """A whole figure as PNG bytes (full redraw)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
