"""The Mesa adapter: the private Mesa names kazsim relies on still exist, and each bulk path equals Mesa's own.

A Mesa upgrade that renames or reshapes what ``sim/mesa_adapter.py`` touches fails here.
"""

from __future__ import annotations

import importlib
import random

import mesa
from mesa.discrete_space import OrthogonalMooreGrid
from mesa.discrete_space.discrete_space import DiscreteSpace
from mesa.model import ModelSignals

from sim.agents.civilians import Civilian
from sim.geography import build_layout
from sim.mesa_adapter import PRIVATE_NAMES, RegionalGrid, release_agents
from sim.model import KazakhstanModel
from sim.scenario import load_scenario


def test_mesa_still_has_every_private_name_the_adapter_uses() -> None:
    model = mesa.Model(rng=1)
    agent = mesa.Agent(model)
    grid = OrthogonalMooreGrid((3, 3), random=model.random)
    owners = {"Model": model, "AgentSet": model.agents, "Agent": type(agent), "DiscreteSpace": grid}
    for owner, names in PRIVATE_NAMES.items():
        target = owners.get(owner) or importlib.import_module(owner)
        for name in names:
            assert hasattr(target, name), f"Mesa no longer has {owner}.{name}: update sim/mesa_adapter.py"
    assert isinstance(grid, DiscreteSpace)
    assert type(model.agents_by_type[mesa.Agent]).__name__ == "_HardKeyAgentSet"  # what register_faces creates
    assert isinstance(model._all_agents._agents, dict) and isinstance(model.agents_by_type[mesa.Agent]._agents, dict)
    assert model.agent_id_counter == agent.unique_id + 1


def test_the_regional_grid_connects_cells_as_mesas_moore_grid_does() -> None:
    layout = build_layout(0.75)
    ours = RegionalGrid(layout)
    full = OrthogonalMooreGrid((layout.width, layout.height), torus=False, random=random.Random(0))
    for cell in ours.all_cells:
        theirs = full[cell.coordinate]
        expected = [(offset, c.coordinate) for offset, c in theirs.connections.items() if ours.has(c.coordinate)]
        assert [(offset, c.coordinate) for offset, c in cell.connections.items()] == expected
    assert len(list(ours.all_cells)) == layout.n_cells


def test_bulk_faces_are_registered_as_mesas_own_path_registers_them() -> None:
    bulk = KazakhstanModel(load_scenario("baseline_2011"))
    one_by_one = mesa.Model(rng=1)
    mesa.Agent(one_by_one)  # ids continue after agents created earlier
    first = one_by_one.agent_id_counter

    class Listener:
        heard = 0

        def hear(self, signal) -> None:
            self.heard += 1

    listener = Listener()
    one_by_one.observe("agents", ModelSignals.AGENT_ADDED, listener.hear)
    Civilian.create_faces(one_by_one, 50)  # someone listens: Mesa's own path, one agent at a time
    assert listener.heard == 50
    faces = list(one_by_one.agents_by_type[Civilian])
    assert [f.unique_id for f in faces] == list(range(first, first + 50))
    bulk_faces = list(bulk.agents_by_type[Civilian])
    assert [f.index for f in bulk_faces] == list(range(len(bulk.civilians)))
    assert sorted(vars(bulk_faces[0])) == sorted(vars(faces[0]))
    ids = [a.unique_id for a in bulk.agents]
    assert ids == list(range(ids[0], ids[0] + len(ids))) and bulk.agent_id_counter == ids[-1] + 1
    assert set(bulk.agents_by_type[Civilian]) <= set(bulk.agents)
    face = bulk_faces[3]
    face.remove()
    assert face not in bulk.agents and face not in bulk.agents_by_type[Civilian]


def test_released_agents_leave_no_agent_registered() -> None:
    model = KazakhstanModel(load_scenario("baseline_2011", overrides=["scale.people_per_agent=20000"]))
    model.run(30)
    assert len(model.agents) > 0
    release_agents(model)
    assert len(model.agents) == 0 and all(len(agents) == 0 for agents in model.agents_by_type.values())
