"""Fixtures for the image tests.

With --import-mode=importlib test files cannot import their neighbours by
name, so the shared helpers in support.py are registered here, under a name
that cannot collide with the top-level tests, for the test files to import.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_spec = importlib.util.spec_from_file_location("inference_image_support", Path(__file__).with_name("support.py"))
assert _spec is not None and _spec.loader is not None
support = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = support
_spec.loader.exec_module(support)


@pytest.fixture(scope="session")
def entrypoint_module() -> ModuleType:
    return support.load_module("inference_entrypoint", support.ENTRYPOINT)


@pytest.fixture(scope="session")
def generator_module() -> ModuleType:
    return support.load_module("sample_model_generate", support.GENERATOR)


@pytest.fixture
def harness(tmp_path: Path) -> support.Harness:
    return support.Harness(tmp_path)
