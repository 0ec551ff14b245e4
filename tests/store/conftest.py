"""Fixtures for the store: a real SQLite file, written through the controller's writer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store.writer import Store

T0 = datetime(2026, 3, 1, 10, 0, 30, tzinfo=ZoneInfo("UTC")).timestamp()


@pytest.fixture
def st(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "site.db", timezone="Asia/Ho_Chi_Minh")
    yield s
    s.close()
