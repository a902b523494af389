"""Fixtures of the scoring tests (no database, no web)."""

from __future__ import annotations

import copy

import pytest
from scoring_builders import example_package


@pytest.fixture
def example():
    """The package of scoring/README.md (a fresh copy)."""
    return copy.deepcopy(example_package())
