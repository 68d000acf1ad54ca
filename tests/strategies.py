"""Hypothesis strategies: random small allocation problems."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conftest import make_request


@st.composite
def requests(draw, max_areas_limit: bool = False, min_areas: int = 1, max_areas: int = 5):
    """A random request: 1-5 areas, 1-3 interventions, some areas ineligible, any budget and cap."""
    areas = draw(st.integers(min_areas, max_areas))
    items = draw(st.integers(1, 3))
    positive = st.floats(1.0, 10_000.0, allow_nan=False, allow_infinity=False)
    harm = np.array(draw(st.lists(st.lists(positive, min_size=items, max_size=items), min_size=areas, max_size=areas)))
    scale = np.array(draw(st.lists(st.lists(st.floats(10.0, 5_000.0), min_size=items, max_size=items), min_size=areas, max_size=areas)))
    reductions = draw(st.lists(st.floats(0.01, 0.5), min_size=items, max_size=items))
    eligible = draw(st.lists(st.booleans(), min_size=areas, max_size=areas))
    budget = draw(st.floats(10.0, 20_000.0))
    cap = draw(st.floats(5.0, 20_000.0))
    limit = draw(st.integers(1, areas)) if max_areas_limit else 0
    return make_request(harm, scale, reductions, eligible, budget, cap, limit, segments=8)
