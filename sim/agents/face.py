"""Mesa agents as faces: each agent shows one row of its kind's state arrays.

The model keeps agent state in arrays so that daily rules run as kernels over all agents; a
face is the Mesa agent a user inspects, visualises or counts through ``model.agents_by_type``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

import mesa
from mesa.agentset import _HardKeyAgentSet
from mesa.model import ModelSignals, _mesa_logger


class Column:
    """A read-only attribute that reads ``model.<table>.<array>[face.index]``."""

    def __init__(self, table: str, array: str, cast: Callable[[Any], Any] = float, doc: str = "") -> None:
        """Name the model attribute holding the state table, the array, and how to convert a value."""
        self.table, self.array, self.cast = table, array, cast
        self.__doc__ = doc

    def __get__(self, face: ArrayFace | None, owner: type | None = None) -> Any:
        if face is None:
            return self
        return self.cast(getattr(getattr(face.model, self.table), self.array)[face.index])


class ArrayFace(mesa.Agent):
    """A Mesa agent standing for row ``index`` of a state table of the model.

    Subclasses name the model attribute holding their table (``table``) and the table's arrays
    of grid-cell index (``cell_array``) and region index (``region_array``).
    """

    table: ClassVar[str]
    cell_array: ClassVar[str] = "cell"
    region_array: ClassVar[str] = "region"

    def __init__(self, model: mesa.Model, index: int) -> None:
        """Create the face of row ``index``."""
        super().__init__(model)
        self.index = index

    @classmethod
    def create_faces(cls, model: mesa.Model, count: int) -> None:
        """Create and register the faces of rows ``0 .. count - 1``, as ``count`` calls of ``cls(model, i)``.

        Mesa registers agents one at a time, at about 5 µs each (signal wrapper, debug logging,
        set insertion); for the ~11,000 civilian groups of a national run that is more than the
        rest of model construction. When nobody listens for the registration (no subscriber to the
        model's AGENT_ADDED signal, no dataset tracking the class, debug logging off), this does
        the same bookkeeping in bulk: same unique ids, same attributes, same agent sets.
        ``tests/test_model.py`` checks the result against Mesa's own path.
        """
        listened = (
            cls._datasets
            or model._has_subscribers("agents", ModelSignals.AGENT_ADDED)
            or _mesa_logger.isEnabledFor(logging.DEBUG)
        )
        if listened:
            for index in range(count):
                cls(model, index)
            return
        first = model.agent_id_counter
        faces = [object.__new__(cls) for _ in range(count)]
        for index, face in enumerate(faces):
            face.__dict__.update(model=model, unique_id=first + index, pos=None, index=index)
        model.agent_id_counter = first + count
        model._all_agents._agents.update(dict.fromkeys(faces))
        by_type = model._agents_by_type
        if cls in by_type:
            by_type[cls]._agents.update(dict.fromkeys(faces))
        elif faces:
            by_type[cls] = _HardKeyAgentSet(faces, random=model.random)

    @staticmethod
    def release_all(model: mesa.Model) -> None:
        """Deregister every agent of a finished model at once, as ``model.remove_all_agents()`` would.

        A model and its agents form reference cycles, which only the cyclic garbage collector
        frees, at a cost of ~15 ms per national model. Emptied of its agents, a model is freed by
        reference counting as soon as it is dropped. Only for models nobody uses any more: no
        removal signal is sent.
        """
        model._all_agents._agents.clear()
        for agents in model._agents_by_type.values():
            agents._agents.clear()

    def _value(self, array: str) -> Any:
        return getattr(getattr(self.model, self.table), array)[self.index]

    @property
    def cell(self):
        """The Mesa grid cell the agent is at."""
        return self.model.grid.cell_at(int(self._value(self.cell_array)))

    @property
    def region(self) -> str:
        """The agent's 2011 region."""
        return self.model.layout.regions[int(self._value(self.region_array))]
