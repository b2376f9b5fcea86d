"""Each test's certified bounds from histogram cells: the registry entries' ``from_cells``.

A grid of cells (:mod:`mlqa.engines.sketch`) knows each side's count per cell and the pooled
min and max of each cell, nothing about the order of rows inside a cell. The exact statistic
of the rows lies between bounds that hold for *every* arrangement of the rows inside the cells
(:func:`mlqa.drift.sketched.cell_bounds` computes them into a ``Cells``); a test's
``from_cells`` turns them into ``((statistic low, statistic high), (p low, p high) or None)``,
``low <= exact <= high``. A test without a cell form (Anderson-Darling: its weights depend on
each row's pooled rank inside a cell) leaves ``from_cells`` None on its registry entry; a
column whose decision rests on such a test takes the exact path.
"""

from __future__ import annotations

import dataclasses

from mlqa.drift.stattests import pooled

Interval = tuple[float, float]
# ((statistic low, statistic high), (p-value low, p-value high) or None for a distance)
Bounds = tuple[Interval, Interval | None]


@dataclasses.dataclass(frozen=True)
class Cells:
    """Certified intervals of one numerical column from its cells: ``n``/``m`` the sides'
    sizes; ``ks`` D; ``wasserstein`` W1 / max(std_ref, 0.001); ``energy_sq`` the sum
    ``sum (F - G)^2 dx``; ``u_ref`` Mann-Whitney's U of the reference (ties count 1/2);
    ``tie_term`` ``sum t^3 - t`` over the pooled values."""

    n: int
    m: int
    ks: Interval
    wasserstein: Interval
    energy_sq: Interval
    u_ref: Interval
    tie_term: Interval


def ks(c: Cells) -> Bounds:
    """scipy's p-value decreases with D: the p interval is the ends' p-values, swapped."""
    low, high = c.ks
    return (low, high), (pooled.ks_p_value(high, c.n, c.m), pooled.ks_p_value(low, c.n, c.m))


def wasserstein(c: Cells) -> Bounds:
    return c.wasserstein, None


def energy(c: Cells) -> Bounds:
    return (pooled.energy_from_sum(c.energy_sq[0]), pooled.energy_from_sum(c.energy_sq[1])), None


def mann_whitney(c: Cells) -> Bounds:
    """The p-value falls as |U - nm/2| grows and as the tie term grows (a smaller variance):
    its low end takes the U end farthest from nm/2 and the largest tie term, its high end the
    U nearest nm/2 (nm/2 itself when the interval holds it) and the smallest tie term."""
    low, high = c.u_ref
    centre = c.n * c.m / 2
    far = low if abs(low - centre) > abs(high - centre) else high
    near = min(max(centre, low), high)
    return (low, high), (pooled.mann_whitney_p(far, c.n, c.m, c.tie_term[1]),
                         pooled.mann_whitney_p(near, c.n, c.m, c.tie_term[0]))
