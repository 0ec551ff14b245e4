"""schemathesis fuzzes every operation of the OpenAPI schema (valid and invalid inputs, with an
admin key): at least 1,000 generated requests, and not one server error."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import ApiSettings
from sitefile import Site
from tests.api.conftest import Keys

# The event stream never ends on its own; it is tested in test_routes.py with max_events.
SKIP = {("GET", "/api/v1/stream")}
EXAMPLES_PER_OPERATION = 90


def fuzz(op: schemathesis.APIOperation, key: str, sent: dict[str, int],
         statuses: dict[int, int], failures: list[str]) -> None:
    """Run generated cases of one operation, with the admin key or with none."""
    label = f"{op.method.upper()} {op.path}"

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(), use_key=st.sampled_from([True, True, False]))
    def run(case: schemathesis.Case, use_key: bool) -> None:
        response = case.call(headers={"X-API-Key": key} if use_key else {})
        sent[label] = sent.get(label, 0) + 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{label} {case.path_parameters} {case.query} {case.body!r}"
                            f" → {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/problem+json")

    run()


def test_fuzz_schema_no_server_errors(db: Path, site: Site, api_keys: Keys) -> None:
    app = create_app(ApiSettings(database=db, command_wait_s=0.0, rate_limit_per_min=10**6,
                                 rate_burst=10**6), site)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app,
                                            headers={"X-API-Key": api_keys.viewer})
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}
    failures: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:
        if (op.method.upper(), op.path) not in SKIP:
            fuzz(op, api_keys.admin, sent, statuses, failures)
    total = sum(sent.values())
    print(f"schemathesis: {total} requests over {len(sent)} operations; statuses {statuses}")
    assert not failures, "\n".join(failures[:20])
    assert total >= 1000, sent
    assert statuses.get(401, 0) > 0 and statuses.get(422, 0) > 0  # bad inputs were generated
    assert sum(n for code, n in statuses.items() if code < 300) > 300  # and valid ones too
