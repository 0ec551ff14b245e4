"""The systemd unit in deploy/: watchdog, restart policy and sandboxing are present."""

from __future__ import annotations

import configparser

from tests.conftest import ROOT

UNIT = ROOT / "deploy" / "offgrid-controller.service"


def test_unit_has_watchdog_restart_and_sandbox() -> None:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(UNIT)
    svc = cp["Service"]
    assert svc["Type"] == "notify"  # READY=1 and WATCHDOG=1 from controller.watchdog
    assert int(svc["WatchdogSec"]) >= 30
    assert svc["Restart"] == "always"
    assert "offgrid run" in svc["ExecStart"] and "--db" in svc["ExecStart"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "ProtectHome": "yes", "PrivateTmp": "yes",
                       "DevicePolicy": "closed"}.items():
        assert svc[key] == value, key
    db = svc["ExecStart"].split("--db ")[1].split()[0]
    assert db.startswith(svc["ReadWritePaths"] + "/")  # the only writable path
    assert int(cp["Unit"]["StartLimitBurst"]) > 1
