"""Shared fixtures: the example site files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHRIMP = EXAMPLES / "shrimp-bac-lieu.toml"
HOME = EXAMPLES / "home-con-dao.toml"


@pytest.fixture
def shrimp_path() -> Path:
    return SHRIMP


@pytest.fixture
def home_path() -> Path:
    return HOME
