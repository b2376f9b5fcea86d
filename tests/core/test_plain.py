"""``to_plain`` turns a numpy array into the same plain values by its fast path (numbers
converted in C) as through its list, element by element: NaN and infinities become None, every
value a builtin, JSON without NaN."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlqa._plain import to_plain


def _types(x):
    return [_types(v) for v in x] if isinstance(x, list) else type(x)


@pytest.mark.parametrize("array", [
    np.array([1.5, 2.0, -0.25]), np.array([1.5, np.nan, -np.inf]),
    np.array([[1.0, np.inf], [2.0, 3.0]]), np.array([1, 2, 3], dtype=np.int64),
    np.array([[1, 2], [3, 4]], dtype=np.uint8), np.array([True, False]),
    np.array([0.1, 2.5], dtype=np.float32), np.array(["a", "b"]),
], ids=lambda a: f"{a.dtype}{a.shape}")
def test_an_array_converts_as_its_elements_do(array):
    plain, by_element = to_plain(array), to_plain(array.tolist())
    assert plain == by_element and _types(plain) == _types(by_element)
    assert None not in np.ravel(plain).tolist() or not np.isfinite(array).all()
    json.dumps(plain, allow_nan=False)
