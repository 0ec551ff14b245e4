"""``offgrid check SITE``: validate a site file, read its weather and load profiles, and
summarise it."""

from __future__ import annotations

from offgrid.common import JsonOpt, SiteArg, fail, open_site, out, print_json
from sizing.errors import SizingError


def check(site_file: SiteArg, as_json: JsonOpt = False) -> None:
    """Validate a site file, read its weather and load profiles, and summarise it."""
    from sizing.inputs import input_errors  # noqa: PLC0415 (pvlib: loaded here only)

    site = open_site(site_file)
    errors = input_errors(site)
    if errors:
        fail("\n".join(f"{site_file}: {e}" for e in errors))
    try:
        if as_json:
            print_json(site.model_dump(mode="json"))
        else:
            from offgrid import summary  # noqa: PLC0415 (pandas: loaded by this command only)

            summary.print_site(out, site)
    except SizingError as e:
        fail(f"{site_file}: {e}")
