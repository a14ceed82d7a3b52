"""The examples in the docstrings of scoring/ run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["numbers", "rubric", "indicators", "rank", "allocate", "engine", "io"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"scoring.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
