"""One real control plane per test session (tests/e2e/controlplane.py). A component
that cannot start fails the tests with its name and the end of its log: never a skip.
At the end, its start-up times and peak memory go to .cache/e2e/figures.json."""

from __future__ import annotations

import json

import pytest

from .controlplane import ControlPlane


@pytest.fixture(scope="session")
def controlplane():
    cp = ControlPlane()
    try:
        yield cp.start()
        figures = {"startup_seconds": {k: round(v, 2) for k, v in cp.timings.items()},
                   "peak_rss_mb": {k: round(v) for k, v in cp.rss_mb().items()}}
        (cp.home / "figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    finally:
        cp.stop()
