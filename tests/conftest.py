"""Shared fixtures and hypothesis profiles.

Profiles: ``ci`` (more examples; chosen when the CI environment variable is set) and
``dev`` (fewer, the default). Override with ``--hypothesis-profile``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Each pytest-xdist worker gets its own Numba cache folder. Numba's on-disk cache has
# no lock: two workers compiling the same kernel at once can write each other's
# numbered cache files, and a later run then loads a kernel compiled for other
# argument types ("can't unbox array from PyObject"). Seen here with -n 2 on a cold
# cache. The variable must be set before Numba is first imported.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and "NUMBA_CACHE_DIR" not in os.environ:
    if "numba" in sys.modules:
        raise RuntimeError("numba was imported before tests/conftest.py set NUMBA_CACHE_DIR")
    os.environ["NUMBA_CACHE_DIR"] = str(
        Path(__file__).resolve().parents[1] / ".numba_cache" / _WORKER
    )

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# "deep": a longer search for bugs, by hand (pytest --hypothesis-profile=deep)
for _name, _examples in (("ci", 150), ("dev", 40), ("deep", 1000)):
    settings.register_profile(_name, max_examples=_examples, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Path of ../shared/data; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared data folder {SHARED_DATA}, which is absent")
    return SHARED_DATA
