"""grader/__init__.py: the package's public surface is exactly its `__all__`, imported lazily."""

import subprocess
import sys
from types import ModuleType

import pytest

import grader


def test_all_is_exactly_the_public_names() -> None:
    eager = {
        name
        for name, value in vars(grader).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert eager == set()  # everything else is imported on first use
    assert len(set(grader.__all__)) == len(grader.__all__)
    for name in grader.__all__:
        assert getattr(grader, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'grade_all'"):
        _ = grader.grade_all


def test_the_command_line_imports_pytest_only_once_it_grades() -> None:
    code = "import sys, grader.cli; print('pytest' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
