"""Command execution: what an operator's command does to the site and the controller's state.

:func:`apply_command` is pure: it returns the new site and state and the result to
acknowledge, or raises :class:`CommandError` (the command is then ``rejected`` with its
message). ``ack_alarm`` is the store's business and is executed by the cycle; so is
``planned_cut``, whose pure part is :func:`planned_cut`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.errors import CommandError
from controller.model import GenMode, State
from sitefile import Site, SiteFileError
from store.contract import PLANNED_CUT_MAX_S, Command


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


@dataclass(frozen=True)
class PlannedCut:
    """A planned cut in progress: the operator declared that the supply is cut (maintenance)
    from ``start_ts`` [UTC epoch s] for ``reason``; ``by`` is who asked."""

    start_ts: float
    reason: str
    by: str

    @property
    def ends_by_ts(self) -> float:
        """When the controller ends the cut if nobody does [UTC epoch s]."""
        return self.start_ts + PLANNED_CUT_MAX_S

    def saved(self) -> dict[str, Any]:
        """The cut as the store's ``planned_cut`` state holds it."""
        return {"start_ts": self.start_ts, "reason": self.reason, "by": self.by}

    @classmethod
    def restored(cls, saved: Any) -> PlannedCut | None:
        """The cut of a saved ``planned_cut`` state (None: no cut in progress)."""
        if not saved:
            return None
        return cls(float(saved["start_ts"]), str(saved["reason"]), str(saved["by"]))


def planned_cut(cmd: Command, cut: PlannedCut | None, wall_ts: float
                ) -> tuple[PlannedCut | None, dict[str, Any]]:
    """The planned cut after the command ``cmd`` (``start`` or ``end``), given the cut in
    progress ``cut``, and the result to acknowledge. Starting while a cut is in progress, or
    ending when none is, raises :class:`CommandError`."""
    action = str(cmd.value["action"])
    if action == "start":
        if cut is not None:
            raise CommandError(f"planned_cut: a planned cut is in progress since "
                               f"{cut.start_ts:.0f} ({cut.reason})")
        new = PlannedCut(wall_ts, str(cmd.value["reason"]), cmd.requested_by)
        return new, {"action": "start", **new.saved(), "ends_by_ts": new.ends_by_ts}
    if cut is None:
        raise CommandError("planned_cut: no planned cut is in progress")
    return None, {"action": "end", **cut.saved(), "end_ts": wall_ts,
                  "minutes": (wall_ts - cut.start_ts) / 60.0}
