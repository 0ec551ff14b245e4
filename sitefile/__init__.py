"""The site file: one TOML file that describes a site completely (DESIGN.md §2).

The ground floor of the house: it imports nothing else of offgrid.

- :mod:`sitefile.model`: the sections, :class:`Site` and ``parse_site(data, base_dir)``;
- :mod:`sitefile.presets`: presets and defaults as data, filled before validation, so a
  validated :class:`Site` is fully resolved and immutable;
- :mod:`sitefile.checks`: the cross-checks, one function per rule;
- :mod:`sitefile.io`: ``load_site(path)``, ``write_site(source, target, changes)``,
  ``relocate_files``;
- :mod:`sitefile.errors`: the error root :class:`SiteFileError`.
"""

from sitefile.checks import CHECKS, run_checks
from sitefile.errors import Problem, SiteFileError
from sitefile.io import load_site, relocate_files, write_site
from sitefile.model import (
    PV,
    SETTABLE_CONTROL_KEYS,
    AeratorLoad,
    Api,
    Appliance,
    ApplianceLoad,
    Battery,
    Control,
    Device,
    Driver,
    Economics,
    Generator,
    Inverter,
    Load,
    LoadBase,
    NonNeg,
    Pct,
    Pos,
    ProfileLoad,
    PumpLoad,
    QuietHours,
    Range,
    Search,
    Section,
    Sim,
    SimFault,
    Site,
    SiteInfo,
    Switch,
    TimeWindow,
    Weather,
    parse_site,
)
from sitefile.presets import (
    CHEMISTRY_PRESETS,
    DEFAULT_C_RATE,
    REQUEST_GAP_S,
    RURAL_HOME_PRESET,
    SURGE_RATIO,
)

__all__ = [
    "CHECKS",
    "CHEMISTRY_PRESETS",
    "DEFAULT_C_RATE",
    "PV",
    "REQUEST_GAP_S",
    "RURAL_HOME_PRESET",
    "SETTABLE_CONTROL_KEYS",
    "SURGE_RATIO",
    "AeratorLoad",
    "Api",
    "Appliance",
    "ApplianceLoad",
    "Battery",
    "Control",
    "Device",
    "Driver",
    "Economics",
    "Generator",
    "Inverter",
    "Load",
    "LoadBase",
    "NonNeg",
    "Pct",
    "Pos",
    "Problem",
    "ProfileLoad",
    "PumpLoad",
    "QuietHours",
    "Range",
    "Search",
    "Section",
    "Sim",
    "SimFault",
    "Site",
    "SiteFileError",
    "SiteInfo",
    "Switch",
    "TimeWindow",
    "Weather",
    "load_site",
    "parse_site",
    "relocate_files",
    "run_checks",
    "write_site",
]
