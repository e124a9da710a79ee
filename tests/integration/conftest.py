import os

import pytest

import vcsim


@pytest.fixture(scope="session")
def vcsim_binary():
    """Only the tests that talk to vcsim need it (the fake-cluster tests do not)."""
    if not vcsim.BINARY.exists():
        if os.environ.get("CI"):
            pytest.fail("vcsim is not built; scripts/test builds it")
        pytest.skip("vcsim not built (run scripts/build-go)")
    return vcsim.BINARY
