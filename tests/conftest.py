"""One oracle cache for the whole test session: torch computes each expectation once.

Every `python -m grader` the tests start inherits $SCRATCHGRAD_CACHE; tests about the cache
itself (tests/grader/test_oracle.py) use folders of their own.
"""

import os
import shutil
import tempfile

SESSION_CACHE = tempfile.mkdtemp(prefix="scratchgrad-test-cache-")


def pytest_configure(config):
    os.environ["SCRATCHGRAD_CACHE"] = SESSION_CACHE
    os.environ.pop("SCRATCHGRAD_SECRET_SEED", None)


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_CACHE, ignore_errors=True)
