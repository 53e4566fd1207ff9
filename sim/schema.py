"""Building blocks of the input schema: strict models, bounded types and the limits of one run.

Validation is strict everywhere: a number is never read from text or a boolean, a date never
from a number, and no float is NaN or infinite. The limits keep one run within an ordinary
machine's memory and a few minutes (``scenarios/README.md`` lists them).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Dates a scenario may use: the model is of 2011; a decade either side leaves room for what-ifs.
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2030, 12, 31)
#: Longest simulated period, in days (ten years; a default-scale year takes well under a second).
MAX_DAYS = 3660
#: Largest seed (seeds are unsigned 32-bit integers, as in most random-number libraries).
MAX_SEED = 2**32 - 1

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Date = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]
RegionName = Annotated[str, Field(min_length=1, max_length=100)]


class StrictModel(BaseModel):
    """A frozen model that refuses unknown keys, coercion between types, NaN and infinities."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
