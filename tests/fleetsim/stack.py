"""The fleet's real servers for the light sites' tests and benchmarks: Mosquitto (TLS,
passwords, ACL) with many sites' broker users at once, and PostgreSQL, from
:mod:`offgrid.localservers` (a missing tool skips, or fails in CI: :mod:`tests.hub.servers`);
and the hub's ingest in a thread of this process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from offgrid import localservers
from offgrid.localservers import HUB_USER, Broker, enroll_many, new_database, reload
from tests.hub.servers import hub_ingest, tools_required

__all__ = ["HUB_USER", "broker_with_sites", "enroll_many", "hub_ingest", "new_database",
           "reload"]


@contextlib.contextmanager
def broker_with_sites(folder: Path, sites: Sequence[str], quiet: bool = False,
                      ) -> Iterator[tuple[Broker, dict[str, str]]]:
    """:func:`offgrid.localservers.broker_with_sites`; a missing tool skips (or fails in
    CI)."""
    with contextlib.ExitStack() as stack:
        with tools_required():
            found = stack.enter_context(localservers.broker_with_sites(folder, sites, quiet))
        yield found
