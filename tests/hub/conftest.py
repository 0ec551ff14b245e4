"""The hub's test servers: one real PostgreSQL cluster and one real Mosquitto broker for the
session (see :mod:`tests.hub.servers`), and a fresh database for each test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hub.schema import create_schema, ensure_partitions
from tests.hub.servers import Broker, mosquitto, postgres

SITES = ["site-a", "site-b", "site-c", "site-d"]
HUB_USER = "hub"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """The DSN of a session-wide PostgreSQL (fsync off: tests never crash the database)."""
    with postgres({"fsync": "off"}) as dsn:
        yield dsn


@pytest.fixture
def hub_dsn(pg_cluster: str) -> Iterator[str]:
    """A new, empty database on the test cluster, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_cluster.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(pg_cluster, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def hub_db(hub_dsn: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to a new database holding the hub's schema, with partitions around now."""
    from datetime import UTC, datetime  # noqa: PLC0415

    with psycopg.connect(hub_dsn) as conn:
        create_schema(conn)
        ensure_partitions(conn, datetime.now(UTC))
        yield conn


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A session-wide Mosquitto (TLS only, passwords, ACL) with :data:`SITES` and the hub."""
    folder: Path = tmp_path_factory.mktemp("broker")
    with mosquitto(folder, SITES, [HUB_USER]) as b:
        yield b
