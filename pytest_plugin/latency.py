"""Latency fixtures: the device a latency test measures on.

Loaded with the plugin, so it imports nothing of mlqa until a test asks for the fixture.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def mlqa_device() -> str:
    """The device latency checks measure on: ``--mlqa-device`` when given, else CUDA.

    Without a usable GPU the test is skipped with the reason (torch's version and CUDA build),
    or errors under ``--mlqa-require-gpu``: the plugin maps the ``DeviceUnavailable`` raised
    here exactly as one raised in the test body.
    """
    from mlqa.latency import resolve_device

    return resolve_device("cuda")
