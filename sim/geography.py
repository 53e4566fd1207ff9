"""Kazakhstan's regional grid: 2011 oblasts rasterised onto a lon/lat grid, and neighbourhoods on it.

The layout (which grid cell belongs to which region, where people live) is computed once per
resolution and kept as numpy arrays; it knows nothing of Mesa. Each model builds its own Mesa grid
from it (:mod:`sim.mesa_adapter`). Neighbourhoods are CSR rows: the grid cells within Moore
radius ``vision`` of each grid cell, itself included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from matplotlib.path import Path as PolygonPath
from numba import njit

from sim.data import SEEDS_DIR, ObservedData

#: Share of a region's people living in its administrative centre's cell. 2009 census ratios of
#: centre to region: Aktobe 0.46, Atyrau 0.32, Aktau 0.32, Taraz 0.31 (domain notes §4).
CENTRE_SHARE = 0.35
CITY_REGIONS = ("Almaty City", "Astana City")
#: The oil-producing west (domain notes §5: the Zhanaozen strike, lower trust in the state).
WESTERN_REGIONS = ("Aktobe Region", "Atyrau Region", "Mangystau Region", "West Kazakhstan Region")
#: Mesa's ``OrthogonalMooreGrid`` neighbour offsets, in its connection order.
MOORE_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


@njit(cache=True, inline="always")
def total_near(indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, cell: int) -> float:
    """Sum of ``values`` over the neighbourhood of grid cell ``cell`` (one CSR row)."""
    total = 0.0
    for k in range(indptr[cell], indptr[cell + 1]):
        total += values[indices[k]]
    return total


@njit(cache=True)
def neighbourhood_sum(indptr: np.ndarray, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over every grid cell's neighbourhood."""
    out = np.zeros(len(indptr) - 1)
    for cell in range(len(indptr) - 1):
        out[cell] = total_near(indptr, indices, values, cell)
    return out


class Neighbourhood(NamedTuple):
    """The grid cells within vision of each grid cell, as the rows of a CSR matrix.

    Attributes:
        indptr: row ``c`` is ``indices[indptr[c]:indptr[c + 1]]``.
        indices: neighbouring grid-cell indices, row by row.
    """

    indptr: np.ndarray
    indices: np.ndarray

    def of(self, cell: int) -> np.ndarray:
        """The grid cells within vision of ``cell``, itself included."""
        return self.indices[self.indptr[cell] : self.indptr[cell + 1]]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Per grid cell, the sum of ``values`` over its neighbourhood."""
        return neighbourhood_sum(self.indptr, self.indices, values)


@dataclass(frozen=True, eq=False)
class RegionalLayout:
    """Where cells, people and regions are; every array is indexed by in-country cell.

    Attributes:
        cell_degrees: grid-cell size in degrees of longitude and latitude.
        lon0: western edge of the grid, degrees east.
        lat0: southern edge of the grid, degrees north.
        width: cells west to east.
        height: cells south to north.
        regions: region keys, in ``regions.csv`` order (region index = position).
        admin_centres: administrative centre of each region.
        region_population: population of each region (people).
        coords: ``(n_cells, 2)`` grid coordinates ``(x, y)`` of in-country cells.
        cell_region: region index of each cell.
        cell_population: people living in each cell.
        is_centre: whether the cell holds its region's administrative centre.
        centre_cell: index of each region's centre cell.
    """

    cell_degrees: float
    lon0: float
    lat0: float
    width: int
    height: int
    regions: tuple[str, ...]
    admin_centres: tuple[str, ...]
    region_population: np.ndarray
    coords: np.ndarray
    cell_region: np.ndarray
    cell_population: np.ndarray
    is_centre: np.ndarray
    centre_cell: np.ndarray
    _neighbourhoods: dict[int, Neighbourhood] = field(default_factory=dict, repr=False)
    _moore_links: list[tuple[tuple[tuple[int, int], int], ...]] = field(default_factory=list, repr=False)

    @property
    def n_cells(self) -> int:
        """Number of in-country cells."""
        return len(self.coords)

    def grid_array(self, values: np.ndarray, fill: float = 0) -> np.ndarray:
        """Spread a per-cell array onto the ``(width, height)`` raster."""
        raster = np.full((self.width, self.height), fill, dtype=np.asarray(values).dtype)
        raster[self.coords[:, 0], self.coords[:, 1]] = values
        return raster

    def lonlat(self, cells: np.ndarray | int) -> np.ndarray:
        """Longitude and latitude of grid cells' centres: ``(n, 2)`` for an array, ``(2,)`` for one cell."""
        xy = self.coords[cells]
        return np.stack([self.lon0 + (xy[..., 0] + 0.5) * self.cell_degrees,
                         self.lat0 + (xy[..., 1] + 0.5) * self.cell_degrees], axis=-1)

    def neighbourhood(self, radius: int) -> Neighbourhood:
        """The grid cells within Moore ``radius`` of each grid cell (itself included)."""
        if radius not in self._neighbourhoods:
            matrix = self._moore_matrix(radius)
            self._neighbourhoods[radius] = Neighbourhood(matrix.indptr, matrix.indices)
        return self._neighbourhoods[radius]

    def place_by_population(self, rng: np.random.Generator, per_region: np.ndarray) -> np.ndarray:
        """Grid cells for ``per_region[r]`` items in each region ``r``, drawn in proportion to cell population."""
        cells = []
        for index, count in enumerate(per_region):
            mine = np.flatnonzero(self.cell_region == index)
            weights = self.cell_population[mine] / self.cell_population[mine].sum()
            cells.append(rng.choice(mine, size=count, p=weights))
        return np.concatenate(cells)

    def moore_links(self) -> list[tuple[tuple[tuple[int, int], int], ...]]:
        """For each cell, its in-country Moore neighbours as ``((dx, dy), index)``, in Mesa's order."""
        if not self._moore_links:
            index = self.grid_array(np.arange(self.n_cells), fill=-1)
            links = []
            for x, y in self.coords.tolist():
                here = []
                for dx, dy in MOORE_OFFSETS:
                    nx, ny = x + dx, y + dy
                    if 0 <= nx < self.width and 0 <= ny < self.height and index[nx, ny] >= 0:
                        here.append(((dx, dy), int(index[nx, ny])))
                links.append(tuple(here))
            self._moore_links.extend(links)
        return self._moore_links

    def _moore_matrix(self, radius: int) -> sp.csr_matrix:
        index = self.grid_array(np.arange(self.n_cells), fill=-1)
        rows, cols = [], []
        for dx, dy in product(range(-radius, radius + 1), repeat=2):
            x = self.coords[:, 0] + dx
            y = self.coords[:, 1] + dy
            inside = (x >= 0) & (x < self.width) & (y >= 0) & (y < self.height)
            target = np.full(self.n_cells, -1)
            target[inside] = index[x[inside], y[inside]]
            keep = target >= 0
            rows.append(np.flatnonzero(keep))
            cols.append(target[keep])
        rows_all, cols_all = np.concatenate(rows), np.concatenate(cols)
        data = np.ones(len(rows_all), dtype=np.float64)
        return sp.csr_matrix((data, (rows_all, cols_all)), shape=(self.n_cells, self.n_cells))


def _rings(geometry: dict) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [(np.asarray(p[0], dtype=float), [np.asarray(h, dtype=float) for h in p[1:]]) for p in polygons]


def _inside(points: np.ndarray, geometry: dict) -> np.ndarray:
    hit = np.zeros(len(points), dtype=bool)
    for outer, holes in _rings(geometry):
        here = PolygonPath(outer).contains_points(points)
        for hole in holes:
            here &= ~PolygonPath(hole).contains_points(points)
        hit |= here
    return hit


@lru_cache(maxsize=8)
def build_layout(cell_degrees: float = 0.75, seeds_dir: Path = SEEDS_DIR) -> RegionalLayout:
    """Rasterise the 2011 regions at ``cell_degrees`` resolution.

    A cell belongs to the region whose polygon contains the cell's centre. The cells holding
    the administrative centres of Almaty and Astana belong to those cities (they are smaller
    than a cell), and every region keeps at least its centre cell.

    Args:
        cell_degrees: cell size in degrees.
        seeds_dir: folder with ``regions.csv`` and ``region_boundaries.geojson``.

    Returns:
        The layout, shared by every model built at this resolution.
    """
    observed = ObservedData(seeds_dir)
    table = observed.regions
    regions = tuple(table["region"])
    features = {f["properties"]["region"]: f["geometry"] for f in observed.boundaries["features"]}

    lon_min, lat_min, lon_max, lat_max = 46.4, 40.5, 87.4, 55.5
    width = int(np.ceil((lon_max - lon_min) / cell_degrees))
    height = int(np.ceil((lat_max - lat_min) / cell_degrees))
    xs, ys = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    centres = np.column_stack(
        [lon_min + (xs.ravel() + 0.5) * cell_degrees, lat_min + (ys.ravel() + 0.5) * cell_degrees]
    )
    raster = np.full(width * height, -1, dtype=np.int16)
    for index, region in enumerate(regions):
        if region in features:
            raster[_inside(centres, features[region]) & (raster < 0)] = index
    raster = raster.reshape(width, height)

    centre_xy = np.column_stack(
        [
            ((table["centre_lon"].to_numpy() - lon_min) // cell_degrees).astype(int),
            ((table["centre_lat"].to_numpy() - lat_min) // cell_degrees).astype(int),
        ]
    )
    # Oblast centres first, cities last: a city wins the cell it shares with its oblast.
    order = sorted(range(len(regions)), key=lambda i: regions[i] in CITY_REGIONS)
    for index in order:
        x, y = centre_xy[index]
        raster[x, y] = index

    coords = np.argwhere(raster >= 0)
    cell_region = raster[coords[:, 0], coords[:, 1]].astype(np.int16)
    index_of = np.full((width, height), -1, dtype=np.int64)
    index_of[coords[:, 0], coords[:, 1]] = np.arange(len(coords))
    centre_cell = index_of[centre_xy[:, 0], centre_xy[:, 1]]
    is_centre = np.zeros(len(coords), dtype=bool)
    is_centre[centre_cell] = True

    population = table["population"].to_numpy(dtype=float)
    cells_per_region = np.bincount(cell_region, minlength=len(regions))
    cell_population = np.empty(len(coords))
    for index in range(len(regions)):
        mine = cell_region == index
        if cells_per_region[index] == 1:
            cell_population[mine] = population[index]
            continue
        cell_population[mine] = population[index] * (1 - CENTRE_SHARE) / (cells_per_region[index] - 1)
        cell_population[centre_cell[index]] = population[index] * CENTRE_SHARE

    return RegionalLayout(
        cell_degrees=cell_degrees,
        lon0=lon_min,
        lat0=lat_min,
        width=width,
        height=height,
        regions=regions,
        admin_centres=tuple(table["admin_centre"]),
        region_population=population,
        coords=coords,
        cell_region=cell_region,
        cell_population=cell_population,
        is_centre=is_centre,
        centre_cell=centre_cell,
    )
