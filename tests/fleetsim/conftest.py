"""The light sites' servers: one PostgreSQL cluster and one Mosquitto (TLS, passwords, ACL) for
the session, with the test fleet's sites enrolled in bulk (see :mod:`tests.fleetsim.stack`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fleetsim.model import SiteSpec, fleet_specs
from tests.fleetsim.stack import broker_with_sites
from tests.hub.servers import Broker, postgres

SITES = 200


@pytest.fixture(scope="session")
def specs() -> list[SiteSpec]:
    """The test fleet: :data:`SITES` light sites."""
    return fleet_specs(SITES, seed=11, prefix="t")


@pytest.fixture(scope="session")
def fleet_cluster() -> Iterator[str]:
    """The DSN of a session-wide PostgreSQL (fsync off: tests never crash the database)."""
    with postgres({"fsync": "off"}) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def fleet_broker(tmp_path_factory: pytest.TempPathFactory,
                 specs: list[SiteSpec]) -> Iterator[tuple[Broker, dict[str, str]]]:
    """A session-wide Mosquitto with the hub's user and every test site's."""
    with broker_with_sites(tmp_path_factory.mktemp("broker"), [s.site for s in specs],
                           quiet=True) as found:
        yield found
