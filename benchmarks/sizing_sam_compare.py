"""Compare the sizing engine with NREL SAM on pvlib's bundled TMY3 file (Greensboro, NC).

Prints two Markdown tables (for the README): annual PV energy against PVWatts v8, and the
unmet-load fraction against SAM's battery model in grid-outage mode, for several PV × battery
designs. The baseline is SAM itself, run in the same process.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sizing.pv import pv_power_kw
from sizing.weather import load_weather
from tests.sizing.sam_reference import (
    household_load_kw,
    our_unmet,
    sam_outage_unmet,
    sam_pvwatts_ac_kw,
    tmy3_site,
)


def main() -> None:
    print("| tilt | azimuth | SAM PVWatts v8 [kWh] | offgrid (pvlib) [kWh] | difference |")
    print("|---:|---:|---:|---:|---:|")
    for tilt, azimuth in ((30, 180), (10, 180), (20, 135), (45, 225)):
        sam = float(sam_pvwatts_ac_kw(4.0, tilt, azimuth, 14.0).sum())
        site = tmy3_site(tilt_deg=tilt, azimuth_deg=azimuth)
        ours = float(pv_power_kw(site, load_weather(site)[0])["ac_kw"].sum())
        diff = 100 * (ours / sam - 1)
        print(f"| {tilt} | {azimuth} | {sam:,.0f} | {ours:,.0f} | {diff:+.1f} % |")
    print()
    print("| PV [kWp] | battery [kWh] | SAM unmet | offgrid unmet | difference [points] |")
    print("|---:|---:|---:|---:|---:|")
    load = household_load_kw()
    for kwp, kwh in ((2, 5), (3, 5), (4, 10), (6, 10), (4, 20), (8, 20)):
        pv = sam_pvwatts_ac_kw(kwp, 30, 180, 14)
        sam, bank, power = sam_outage_unmet(pv, load, kwh)
        ours = our_unmet(pv, load, bank, power)
        print(f"| {kwp} | {bank:.1f} | {100 * sam:.2f} % | {100 * ours:.2f} % | "
              f"{100 * (ours - sam):+.2f} |")


if __name__ == "__main__":
    main()
