"""The one place kazsim relies on Mesa's private internals (Mesa 3.5), for speed.

Three things Mesa's public API does one agent or one cell at a time are done here in bulk:

* building the grid of in-country cells (:class:`RegionalGrid`), which connects cells directly
  instead of through Mesa's per-cell ``connect`` (4x faster);
* registering thousands of agents at once (:func:`register_faces`), ~5 µs an agent saved;
* deregistering every agent of a finished model at once (:func:`release_agents`), so that the
  model is freed by reference counting instead of the cyclic collector.

Each function names the private attributes it touches in :data:`PRIVATE_NAMES`;
``tests/test_mesa_adapter.py`` checks that Mesa still has them and that each bulk path gives what
Mesa's own path gives, so a Mesa upgrade that changes them fails a test instead of a run.
"""

from __future__ import annotations

import logging
from random import Random

import mesa
import numpy as np
from mesa.agentset import _HardKeyAgentSet
from mesa.discrete_space import Cell, OrthogonalMooreGrid
from mesa.discrete_space.discrete_space import DiscreteSpace
from mesa.discrete_space.property_layer import PropertyLayer
from mesa.model import ModelSignals, _mesa_logger

from sim.geography import RegionalLayout

#: Mesa's private names used here, by owner, for the upgrade test.
PRIVATE_NAMES: dict[str, tuple[str, ...]] = {
    "mesa.agentset": ("_HardKeyAgentSet",),
    "mesa.model": ("_mesa_logger",),
    "Model": ("_all_agents", "_agents_by_type", "_has_subscribers", "agent_id_counter"),
    "AgentSet": ("_agents",),
    "Agent": ("_datasets",),
    "DiscreteSpace": ("_cells", "_celllist", "_try_random", "_ndims"),
}


class RegionalGrid(OrthogonalMooreGrid):
    """A Mesa grid over Kazakhstan that holds only the grid cells inside the country.

    Cells outside every region are never created, so each cell belongs to one 2011 oblast.
    Layers ``region``, ``population``, ``city`` and ``police`` are numpy-backed property layers.
    """

    def __init__(self, layout: RegionalLayout, random: Random | None = None) -> None:
        """Create the grid.

        Args:
            layout: the regional layout to build on.
            random: Mesa's stdlib random generator (the model's ``random``).
        """
        # OrthogonalMooreGrid.__init__ would build and connect the whole rectangle; only the
        # in-country cells are wanted, so the base class is initialised and the cells are made here.
        DiscreteSpace.__init__(self, capacity=None, random=random or Random(0), cell_klass=Cell)
        self.layout = layout
        self.torus = False
        self.dimensions = (layout.width, layout.height)
        self._try_random = True
        self._ndims = 2
        self.cell_klass = type("GridCell", (Cell,), {"_mesa_properties": set(), "__slots__": ()})
        self._cells = {
            (x, y): self.cell_klass((x, y), capacity=None, random=self.random) for x, y in layout.coords.tolist()
        }
        self._celllist = list(self._cells.values())
        self._connect_cells()
        for name, values, fill in (
            ("region", layout.cell_region.astype(np.int16), -1),
            ("population", layout.cell_population, 0.0),
            ("city", layout.is_centre, False),
            ("police", np.zeros(layout.n_cells), 0.0),
        ):
            self.add_property_layer(PropertyLayer.from_data(name, layout.grid_array(values, fill)))

    def _connect_cells(self) -> None:
        # What Cell.connect does for each of Mesa's Moore offsets, minus clearing neighbourhood
        # caches that new cells do not have yet.
        cells = self._celllist
        for cell, links in zip(cells, self.layout.moore_links(), strict=True):
            cell.connections = {offset: cells[j] for offset, j in links}

    def cell_at(self, index: int) -> Cell:
        """The Mesa cell of an in-country grid-cell index."""
        x, y = self.layout.coords[index]
        return self._cells[(int(x), int(y))]

    def has(self, coordinate: tuple[int, int]) -> bool:
        """Whether the grid holds a cell at ``coordinate`` (inside the country)."""
        return coordinate in self._cells


def register_faces(cls: type[mesa.Agent], model: mesa.Model, count: int) -> None:
    """Create and register faces for rows ``0 .. count - 1``, as ``count`` calls of ``cls(model, i)``.

    Mesa registers agents one at a time (signal wrapper, debug logging, set insertion); for the
    ~11,000 civilian groups of a national run that is more than the rest of model construction.
    When nobody listens for the registration (no subscriber to the model's AGENT_ADDED signal, no
    dataset tracking the class, debug logging off), this does the same bookkeeping in bulk: same
    unique ids, same attributes, same agent sets. Otherwise it takes Mesa's own path.
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


def release_agents(model: mesa.Model) -> None:
    """Deregister every agent of a finished model at once, as ``model.remove_all_agents()`` would.

    A model and its agents form reference cycles, which only the cyclic garbage collector frees,
    at a cost of ~15 ms per national model. Emptied of its agents, a model is freed by reference
    counting as soon as it is dropped. Only for models nobody uses any more: no removal signal is sent.
    """
    model._all_agents._agents.clear()
    for agents in model._agents_by_type.values():
        agents._agents.clear()
