"""One oracle cache for the whole test session, and the tests that need torch.

Every `python -m grader` the tests start inherits $SCRATCHGRAD_CACHE; tests about the cache
itself (tests/grader/test_oracle.py) use folders of their own.

The grader runs without torch (the public expectations ship with it), so most of this suite
does too. Tests that compute with torch carry `@pytest.mark.torch`, and tests/solutions
compares the reference with torch: without torch they are skipped, saying how to install it,
unless SCRATCHGRAD_REQUIRE_TORCH is set (CI sets it), where they fail instead.
"""

import importlib.util
import os
import shutil
import tempfile

import pytest

SESSION_CACHE = tempfile.mkdtemp(prefix="scratchgrad-test-cache-")
HAS_TORCH = importlib.util.find_spec("torch") is not None
INSTALL_TORCH = (
    "needs torch, which computes expected values: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu && "
    "pip install -e '.[oracle]'"
)
collect_ignore = [] if HAS_TORCH else ["solutions"]


def pytest_configure(config):
    os.environ["SCRATCHGRAD_CACHE"] = SESSION_CACHE
    os.environ.pop("SCRATCHGRAD_SECRET_SEED", None)
    config.addinivalue_line("markers", "torch: the test computes with torch")
    if not HAS_TORCH and os.environ.get("SCRATCHGRAD_REQUIRE_TORCH"):
        raise pytest.UsageError(
            f"SCRATCHGRAD_REQUIRE_TORCH is set, but torch is missing: {INSTALL_TORCH}"
        )


def pytest_runtest_setup(item):
    if not HAS_TORCH and item.get_closest_marker("torch"):
        pytest.skip(INSTALL_TORCH)


def pytest_terminal_summary(terminalreporter):
    if not HAS_TORCH:
        terminalreporter.write_line(
            f"tests/solutions and the tests marked torch were not run: {INSTALL_TORCH}"
        )


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_CACHE, ignore_errors=True)
