import importlib.util
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent                     # the repository
sys.path.insert(0, str(TESTS))          # so tests can import reference/ helpers

HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transformers") is not None

requires_transformers = pytest.mark.skipif(not HAVE_TORCH, reason="torch + transformers not installed "
                                           "(.ci/run installs them; the golden fixtures still run)")
