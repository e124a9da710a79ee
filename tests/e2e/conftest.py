"""One real control plane per test session (tests/e2e/controlplane.py). A component
that cannot start fails the tests with its name and the end of its log: never a skip."""

from __future__ import annotations

import pytest

from .controlplane import ControlPlane


@pytest.fixture(scope="session")
def controlplane():
    cp = ControlPlane()
    try:
        yield cp.start()
    finally:
        cp.stop()
