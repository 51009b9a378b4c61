"""Schemathesis against the router's OpenAPI schema, served for real: no input gives a 500.

Every operation, with the admin header, on a database at head with memories to
clean up; the responses must also match the schema (status codes, bodies).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import httpx
import pytest
import schemathesis
from factories import add_memories, add_memory_agent
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema
from served import ADMIN
from sqlalchemy import Engine

# schemathesis.pytest.from_fixture breaks under pytest 9 (it reads Function._nodeid), so each
# operation's strategy is driven by Hypothesis here.
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture
def web_schema(instrumented: Engine, client: httpx.Client) -> OpenApiSchema:
    add_memory_agent(instrumented)
    with instrumented.begin() as conn:
        add_memories(conn, 20, type_="episodic", age=timedelta(days=45))
    return schemathesis.openapi.from_url(str(client.base_url.join("/openapi.json")))


def test_no_input_gives_a_server_error(web_schema: OpenApiSchema) -> None:
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) == 6

    statuses: Counter[tuple[str, int]] = Counter()
    for operation, mode in itertools.product(operations, GenerationMode):
        if mode is GenerationMode.NEGATIVE and not (operation.query or operation.path_parameters):
            continue  # nothing to get wrong

        @EXAMPLES
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Case) -> None:
            # the default checks: not_a_server_error, then status code, content type and
            # body as the schema documents them
            response = case.call_and_validate(headers=ADMIN)
            assert response.status_code != 500
            statuses[case.method, response.status_code] += 1

        call()
    print(sorted(statuses.items()))
    assert sum(statuses.values()) >= len(operations)
