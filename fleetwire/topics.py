"""The MQTT topic layout between sites and the hub, defined here once.

Every topic is ``offgrid/v1/<site>/<kind>``. A site publishes the *up* kinds under its own id
only, and reads the *down* kinds addressed to it only (the broker's ACL enforces both; see
:func:`site_acl`). The hub reads every site's up kinds through a shared subscription, so that
several ingest workers split the load (:func:`shared`).
"""

from __future__ import annotations

import re
from typing import Final, Literal

from fleetwire.errors import WireError

PREFIX: Final = "offgrid/v1"
UpKind = Literal["batch", "event", "state"]
DownKind = Literal["ack", "cmd", "live"]
UP_KINDS: Final[tuple[UpKind, ...]] = ("batch", "event", "state")
"""Site → hub: ``batch`` (records, :mod:`fleetwire.batch`), ``event`` (alarms, interruptions
and command results, at once: :class:`fleetwire.messages.Events`), ``state`` (current values,
retained: :class:`fleetwire.messages.State`)."""
DOWN_KINDS: Final[tuple[DownKind, ...]] = ("ack", "cmd", "live")
"""Hub → site: ``ack`` (a batch or an Events committed), ``cmd`` (an operator's command, with
an expiry), ``live`` (a keep-alive: send State while someone watches)."""
SHARE_GROUP: Final = "hub"
SITE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""A site id: lower-case letters, digits and hyphens, 1–63 characters (no MQTT wildcard, no
``/``), so that it is safe as a topic level, a broker user name and a file name."""


def check_site_id(site: str) -> str:
    """``site`` itself when it is a valid site id (:data:`SITE_ID`), else :class:`WireError`."""
    if not SITE_ID.fullmatch(site):
        raise WireError(f"site id {site!r}: must be 1-63 lower-case letters, digits or "
                        "hyphens, starting with a letter or digit")
    return site


def topic(site: str, kind: UpKind | DownKind) -> str:
    """The topic of ``kind`` for ``site``: ``offgrid/v1/<site>/<kind>``."""
    if kind not in UP_KINDS and kind not in DOWN_KINDS:
        raise WireError(f"topic kind {kind!r}: not one of {UP_KINDS + DOWN_KINDS}")
    return f"{PREFIX}/{check_site_id(site)}/{kind}"


def every_site(kind: UpKind | DownKind) -> str:
    """The filter that matches ``kind`` for every site: ``offgrid/v1/+/<kind>``."""
    return f"{PREFIX}/+/{kind}"


def shared(kind: UpKind) -> str:
    """The hub's shared subscription to ``kind``: ``$share/hub/offgrid/v1/+/<kind>``."""
    return f"$share/{SHARE_GROUP}/{every_site(kind)}"


def parse(topic_name: str) -> tuple[str, str]:
    """``(site, kind)`` of a topic of this layout, else :class:`WireError`."""
    parts = topic_name.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != PREFIX:
        raise WireError(f"topic {topic_name!r}: not {PREFIX}/<site>/<kind>")
    site, kind = parts[2], parts[3]
    check_site_id(site)
    if kind not in UP_KINDS and kind not in DOWN_KINDS:
        raise WireError(f"topic {topic_name!r}: kind {kind!r} is not one of "
                        f"{UP_KINDS + DOWN_KINDS}")
    return site, kind


def site_acl(site: str) -> list[str]:
    """The Mosquitto ACL lines of ``site``'s user: publish only its own up kinds, read only its
    own down kinds."""
    return ([f"user {check_site_id(site)}"]
            + [f"topic write {topic(site, k)}" for k in UP_KINDS]
            + [f"topic read {topic(site, k)}" for k in DOWN_KINDS])


def hub_acl(user: str) -> list[str]:
    """The Mosquitto ACL lines of a hub's user: read every site's up kinds, write every site's
    down kinds."""
    return ([f"user {user}"]
            + [f"topic read {every_site(k)}" for k in UP_KINDS]
            + [f"topic write {every_site(k)}" for k in DOWN_KINDS])
