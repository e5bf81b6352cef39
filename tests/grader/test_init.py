"""grader/__init__.py: the package's public surface is exactly its `__all__`."""

from types import ModuleType

import grader


def test_all_is_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(grader).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert sorted(grader.__all__) == sorted(public | {"__version__"})
    assert len(set(grader.__all__)) == len(grader.__all__)
