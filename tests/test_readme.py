"""README's generated sections (check catalog, broken-example output) are current."""

import subprocess
import sys

from conftest import ROOT


def test_readme_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "update-readme"), "--check"])
    assert r.returncode == 0, "run scripts/update-readme"
