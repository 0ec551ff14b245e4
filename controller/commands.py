"""Command execution: what an operator's command does to the site and the controller's state.

:func:`apply_command` is pure: it returns the new site and state and the result to
acknowledge, or raises :class:`CommandError` (the command is then ``rejected`` with its
message). ``ack_alarm`` is the store's business and is executed by the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.errors import CommandError
from controller.model import GenMode, State
from sitefile import Site, SiteFileError
from store.contract import Command


@dataclass(frozen=True)
class Applied:
    """The outcome of a command: the site and state after it, the result to acknowledge, and
    the threshold to save (key, value) when it set one."""

    site: Site
    state: State
    result: dict[str, Any]
    threshold: tuple[str, Any] | None = None


def set_threshold(site: Site, key: str, value: Any) -> Site:
    """``site`` with ``control.<key> = value``, the whole site validated again; raises
    :class:`CommandError` for a key outside ``SETTABLE_CONTROL_KEYS`` or an invalid value."""
    try:
        return site.with_control(**{key: value})
    except SiteFileError as e:
        raise CommandError(f"set_threshold: {e}") from e


def apply_command(cmd: Command, site: Site, state: State, now_mono: float, wall_ts: float
                  ) -> Applied:
    """Apply ``override_load``, ``set_threshold`` or ``generator``; raises CommandError."""
    v = cmd.value
    if cmd.kind == "override_load":
        load = str(v["load"])
        if not any(ld.name == load and ld.switch for ld in site.loads):
            raise CommandError(f"override_load: no switchable load {load!r}")
        expires_s = float(v["expires_s"])
        overrides = {**state.overrides, load: (bool(v["on"]), now_mono + expires_s)}
        return Applied(site, state.evolve(overrides=overrides),
                       {"load": load, "on": bool(v["on"]), "expires_ts": wall_ts + expires_s})
    if cmd.kind == "set_threshold":
        key = str(v["key"])
        new = set_threshold(site, key, v["value"])
        return Applied(new, state, {"key": key, "value": getattr(new.control, key)},
                       (key, v["value"]))
    if cmd.kind == "generator":
        if site.generator is None:
            raise CommandError("generator: this site has no generator")
        action = str(v["action"])
        mode: GenMode = "start" if action == "start" else "stop" if action == "stop" else "auto"
        return Applied(site, state.evolve(gen_mode=mode), {"mode": mode})
    raise CommandError(f"{cmd.kind}: not a command the cycle applies")
