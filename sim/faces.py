"""Mesa agents as faces: each agent shows one row of its kind's state table.

Both models keep agent state in tables of arrays so that daily rules run as kernels over all
agents; a face is the Mesa agent a user inspects, visualises or counts through
``model.agents_by_type``. It has no ``step``: reading a face never changes the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import mesa

from sim.mesa_adapter import register_faces


class Column:
    """A read-only attribute that reads ``model.<table>.<array>[face.index]``."""

    def __init__(self, array: str, cast: Callable[[Any], Any] = float, doc: str = "") -> None:
        """Name the table's array and how to convert a value; the table is the face class's ``table``."""
        self.array, self.cast = array, cast
        self.__doc__ = doc

    def __get__(self, face: Face | None, owner: type | None = None) -> Any:
        if face is None:
            return self
        return self.cast(getattr(face.rows, self.array)[face.index])


class Face(mesa.Agent):
    """A Mesa agent standing for row ``index`` of the state table ``model.<table>``.

    Subclasses name the model attribute holding their table (``table``) and declare
    :class:`Column` attributes for the arrays they show.
    """

    table: ClassVar[str]

    def __init__(self, model: mesa.Model, index: int) -> None:
        """Create the face of row ``index``."""
        super().__init__(model)
        self.index = index

    @property
    def rows(self) -> Any:
        """The state table this face shows a row of."""
        return getattr(self.model, self.table)

    @classmethod
    def create_faces(cls, model: mesa.Model, count: int) -> None:
        """Create and register the faces of rows ``0 .. count - 1`` (in bulk when nobody listens)."""
        register_faces(cls, model, count)


class PlacedFace(Face):
    """A face of the national model: it stands on a grid cell of a 2011 region.

    Subclasses name the table's arrays of grid-cell index (``cell_array``) and region index
    (``region_array``).
    """

    cell_array: ClassVar[str] = "cell"
    region_array: ClassVar[str] = "region"

    @property
    def cell(self) -> Any:
        """The Mesa grid cell the agent is at."""
        return self.model.grid.cell_at(int(getattr(self.rows, self.cell_array)[self.index]))

    @property
    def region(self) -> str:
        """The agent's 2011 region."""
        return self.model.layout.regions[int(getattr(self.rows, self.region_array)[self.index])]
