"""Property-based fuzzing of every operation of the OpenAPI schema: no input gives a 5xx.

Schemathesis generates path parameters, query strings and bodies from /openapi.json (valid and
invalid ones); the app runs over a real ZooKeeper store holding cluster ``demo`` with two nodes,
and half the generated path parameters are swapped for those known names so that the requests
reach past the 404s into validation, update rules and intents.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from framework.views import SchedulerView
from tests.api.conftest import TOKEN, StoreView, fake_sidecar, launch

KNOWN = {"cluster": "demo", "node": "node-0", "plan": "deploy"}


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    known = {k: KNOWN.get(k, v) for k, v in path_parameters.items()}
    return st.sampled_from([path_parameters, known])


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def fuzz_app(view: StoreView) -> FastAPI:
    app = create_app(view, token=TOKEN, sidecar_status=fake_sidecar)
    with TestClient(app) as c:
        assert c.put("/v1/clusters/demo", json={"nodes": 3}, headers=AUTH).status_code == 202
    launch(view, "demo", "node-0")
    launch(view, "demo", "node-1", ready=False)
    return app


# The schema is static: rendering it calls nothing on the view, so any object stands in here;
# every request of the test goes to ``fuzz_app`` over the real store.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(cast(SchedulerView, object()), token=TOKEN, read_cache_s=0)
)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_gives_a_server_error(case: Any, fuzz_app: FastAPI) -> None:
    """Schemathesis' checks (no 5xx, answers match the schema, documented codes, auth enforced,
    invalid input refused) plus our error model: every refusal has a message.

    Excluded: "schema-valid request rejected". JSON Schema cannot state the spec's cross-field
    rules (seeds <= nodes, heap_mb < mem_mb) nor the URL and name formats, so data valid for the
    schema may rightly get a 400/422 naming the rule."""
    response = case.call_and_validate(app=fuzz_app, headers=AUTH, excluded_checks=[positive_data_acceptance])
    if response.status_code >= 400:
        assert isinstance(response.json().get("message"), str), response.text
