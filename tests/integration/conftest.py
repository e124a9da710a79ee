import os

import pytest

import vcsim


@pytest.fixture(scope="session", autouse=True)
def _need_vcsim():
    if not vcsim.BINARY.exists():
        if os.environ.get("CI"):
            pytest.fail("vcsim is not built; scripts/test builds it")
        pytest.skip("vcsim not built (run scripts/build-vcsim)")
