"""Which test each column gets: evidently 0.7's default choice, or mlqa's ``auto``."""

from __future__ import annotations

from mlqa.drift.columns import NUMERICAL, Sample

# evidently switches from p-value tests to distances above this many reference rows.
SMALL_REFERENCE_ROWS = 1000


def distinct_union(ref: Sample, cur: Sample, limit: int) -> int:
    """Distinct values of both sides together, exact up to ``limit`` (more counts as limit+1):
    the selection only asks whether it is <= 2 or <= 5, so a large reference answers alone."""
    if ref.distinct_upto(limit) > limit or cur.distinct_upto(limit) > limit:
        return limit + 1
    ref_keys, _ = ref.frequencies()
    cur_keys, _ = cur.frequencies()
    return len(set(ref_keys.tolist()) | set(cur_keys.tolist()))


def evidently_default(ref: Sample, cur: Sample) -> str:
    """evidently 0.7.23's ``_get_default_stattest`` (only the reference size counts):

    =========================  ================  ===============
    column                     n_ref <= 1000     n_ref > 1000
    =========================  ================  ===============
    numerical, <= 2 values     z                 jensenshannon
    numerical, 3-5 values      chisquare         jensenshannon
    numerical, > 5 values      ks                wasserstein
    categorical, <= 2 values   z                 jensenshannon
    categorical, > 2 values    chisquare         jensenshannon
    =========================  ================  ===============

    "values" are the distinct values of reference and current together.
    """
    n_values = distinct_union(ref, cur, 5)
    small = ref.n <= SMALL_REFERENCE_ROWS
    if ref.kind == NUMERICAL and n_values > 5:
        return "ks" if small else "wasserstein"
    if not small:
        return "jensenshannon"
    return "z" if n_values <= 2 else "chisquare"


def auto_default(ref: Sample, cur: Sample) -> str:
    """mlqa's choice: a p-value test per column type, sized for any n.

    Binary (2 distinct values in all): the two-proportion ``z`` test. Other categorical
    columns: ``chi2_homogeneity``. Numerical columns: ``ks``.
    """
    n_values = distinct_union(ref, cur, 2)
    if n_values <= 2:
        return "z"
    return "ks" if ref.kind == NUMERICAL else "chi2_homogeneity"
