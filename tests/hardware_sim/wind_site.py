"""A windy site for the simulator and controller tests: the shrimp farm with the island's
two Bergey Excel 10 turbines (AC coupled, read through an SMA Windy Boy over SunSpec), the NE
monsoon's monthly winds, and two generators, each on its own SmartGen controller."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sitefile import Site, parse_site
from tests.conftest import SHRIMP
from tests.support import free_port, on_local_ports

BERGEY_EXCEL_10 = {  # as /tmp/island's draft gives it (Bergey's certified curve, 0.1 kW)
    "speed_m_s": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20],
    "power_kw": [0.0, 0.1, 0.4, 0.9, 1.6, 2.5, 3.6, 4.8, 6.2, 7.6, 8.9, 10.0, 11.0, 11.8, 12.3,
                 12.5, 12.6, 12.6],
}
LY_SON_WIND_M_S = [7.0, 6.0, 5.0, 4.0, 3.6, 4.0, 4.2, 4.0, 3.8, 5.5, 7.2, 7.6]
GEN_KW = 10.0


def wind_site_data(tmp_path: Path, *, coupling: str = "ac") -> dict[str, Any]:
    """The site mapping: TCP devices on free ports, the RS485 bus on a pty under ``tmp_path``."""
    data = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    data["site"]["roughness_length_m"] = 0.03
    data["weather"].update(monthly_wind_m_s=LY_SON_WIND_M_S, wind_weibull_k=2.0,
                           wind_height_m=10)
    data["wind"] = [{"name": "turbines", "power_curve": BERGEY_EXCEL_10, "count": 2,
                     "hub_height_m": 24, "coupling": coupling, "availability_pct": 95}]
    single = data.pop("generator")
    data["generators"] = [{**single, "kw": GEN_KW, "name": f"gen-{k}", "device": f"genset-{k}",
                           "min_run_min": 30} for k in (1, 2)]
    on_local_ports(data, tmp_path)
    devices = []
    for dev in data["devices"]:
        if dev["name"] == "genset":
            devices.append({**dev, "name": "genset-1"})
            devices.append({**dev, "name": "genset-2", "unit_id": 6})
        else:
            devices.append(dev)
    devices.append({"name": "turbine", "driver": "sunspec_wind", "transport": "tcp",
                    "host": "127.0.0.1", "port": free_port(), "unit_id": 126, "poll_s": 2,
                    "timeout_s": 0.5})
    data["devices"] = devices
    return data


def wind_site(tmp_path: Path, **kw: Any) -> Site:
    """The windy site (see :func:`wind_site_data`), validated."""
    return parse_site(wind_site_data(tmp_path, **kw), SHRIMP.parent, SHRIMP)
