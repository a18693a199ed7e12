"""A hostile caller's inputs, class by class (issue 14): each answers a 4xx problem detail (never a 5xx), the
refusal comes from validation (its status and message), and the access log holds exactly one row for the request,
without the raw bytes sent or any key."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import uvicorn
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from api.edge_checks import MAX_HEADER
from api.factory import create_app
from api.problems import UNAVAILABLE_RETRY_AFTER_S
from api.settings import ApiSettings
from deploy.cli.api import HTTP_OPTIONS
from tests.support.hub import UNLIMITED, HubEnv

pytestmark = pytest.mark.integration

EASTBOURNE_CSP = "E22000295"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}
NUL = "\x00"


@dataclass(frozen=True)
class Case:
    """One hostile request: who sends it, what, the status and words its refusal must carry, and what the access
    log must never hold (beyond control characters, which it never holds)."""

    name: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    who: str = "public"  # public, analyst, essex (an analyst with OGC collections), ig_lead, bad_key
    status: int = 400
    says: str = ""  # a fragment of the problem's detail
    secret: str | None = None  # a value that must appear neither in the answer nor in the access log
    method: str = "GET"
    body: bytes | None = None


MONTHS = {"dataset": "police-uk-street", "from": "2024-01", "to": "2024-01"}
CONTROL = [
    Case(f"nul-in-{name}", "/v1/counts", {**MONTHS, name: f"x{NUL}y"}, "analyst", says=f"'{name}'")
    for name in ("area", "category", "vintage", "dataset")
] + [
    Case("nul-in-dq-partner", "/v1/dq", {"partner": f"a{NUL}"}, "analyst", says="'partner'"),
    Case("nul-in-dq-dataset", "/v1/dq", {"dataset": f"a{NUL}"}, "analyst", says="'dataset'"),
    Case("nul-in-csp", "/v1/scorecard", {"csp": f"E{NUL}"}, "analyst", says="'csp'"),
    Case("nul-in-cohort", "/v1/cohorts", {"from": "2024-01", "to": "2024-02", "cohort": NUL}, says="'cohort'"),
    Case("nul-in-public-area", "/v1/public/counts", {**MONTHS, "area": NUL}, says="'area'"),
    Case("del-in-a-name", "/v1/public/counts", {**MONTHS, "ar\x7fea": "x"}, says="'ar?ea'"),
    Case("newline-in-a-value", "/v1/public/counts", {**MONTHS, "category": "a\nb"}, says="'category'"),
    Case("nul-in-a-collection-id", "/collections/police-uk-api-ward-monthly%00", who="analyst", says="path"),
    Case("nul-in-a-feature-id", "/collections/x/items/E05%00.2024-01", who="analyst", says="path"),
    Case("bad-key-and-nul", "/v1/counts", {**MONTHS, "area": NUL}, "bad_key", says="'area'"),
]
CREDENTIALS = [
    Case(f"key-as-{name}", "/v1/public/counts", {**MONTHS, name: "hub_leaked1_secretvalue"}, says="Authorization")
    for name in ("api_key", "KEY", "apiKey", "token")
] + [
    Case(
        "key-to-an-analytic-route",
        "/v1/counts",
        {**MONTHS, "Api_Key": "hub_leaked2_secretvalue"},
        "analyst",
        says="Authorization",
    ),
]
MONTH_BOUNDS = [
    Case("public-two-millennia", "/v1/public/counts", {**MONTHS, "from": "0002-01", "to": "9998-12"}, says="1900"),
    Case("from-9999", "/v1/public/counts", {**MONTHS, "from": "9999-12", "to": "9999-12"}, says="2100"),
    Case("from-year-0", "/v1/public/counts", {**MONTHS, "from": "0000-01"}, says="1900"),
    Case("span-over-15-years", "/v1/public/counts", {**MONTHS, "from": "2000-01", "to": "2015-01"}, says="15 years"),
    Case("trends-span", "/v1/trends", {**MONTHS, "from": "1990-01", "to": "2024-12", "level": "ward"}, "analyst"),
    Case(
        "marac-all-of-time",
        "/v1/repeats",
        {"measure": "marac", "from": "0001-01", "to": "9999-12"},
        "analyst",
        says="1900",
    ),
    Case("cohorts-span", "/v1/cohorts", {"from": "1900-01", "to": "2100-12"}, "analyst", says="15 years"),
    Case("scorecard-year-1", "/v1/scorecard", {"csp": EASTBOURNE_CSP, "as_of": "0001-01"}, "analyst", says="1900"),
    Case("ig-flows-year-9999", "/v1/ig/flows", {"to": "9999-12-31"}, "ig_lead", says="2100"),
    Case("ig-retention-on-year-1", "/v1/ig/retention", {"on": "0001-01-01"}, "ig_lead", says="1900"),
]
DATETIMES = [
    Case(f"datetime-{i}", "/collections/police-uk-api-ward-monthly/items", {"datetime": value}, "essex")
    for i, value in enumerate(
        ["../9999-12-31", "0001-01-01/..", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z/..", "2020-13-01", "x/y"]
    )
]
NUMBERS = [
    Case("easting-inf", "/v1/geocode", {"easting": "inf", "northing": "100000"}, status=422, says="easting"),
    Case("lat-nan", "/v1/geocode", {"lat": "nan", "lon": "0"}, status=422, says="lat"),
    Case("lon-1e400", "/v1/geocode", {"lat": "50", "lon": "1e400"}, status=422, says="lon"),
    *(
        Case(
            f"post-{word}",
            "/v1/geocode",
            status=422,
            says="items[0]",
            method="POST",
            body=b'{"items": [{"easting": %s, "northing": 100000}]}' % word.encode(),
        )
        for word in ("NaN", "Infinity", "-Infinity", "1e400")
    ),
    Case("within-days-a-billion", "/v1/ig/reviews", {"within_days": "1000000000"}, "ig_lead", 422, "within_days"),
    Case("late-days-a-billion", "/v1/dq", {"late_days": "1000000000"}, "analyst", 422, "late_days"),
    Case("flows-page-too-long", "/v1/ig/flows", {"limit": "10001"}, "ig_lead", 422, "limit"),
    Case("withheld-offset-negative", "/v1/ig/withheld", {"offset": "-1"}, "ig_lead", 422, "offset"),
    Case("ogc-limit-huge", "/collections/police-uk-api-ward-monthly/items", {"offset": "9" * 5000}, "essex"),
]
REFUSALS = [
    Case("no-key", "/v1/indicators", status=401, says="API key"),
    Case("bad-key", "/v1/indicators", who="bad_key", status=401, says="API key"),
    Case("ig-as-analyst", "/v1/ig/protocols", who="analyst", status=403, says="information-governance"),
    Case("ig-access-log-as-public", "/v1/ig/access-log", status=403, says="information-governance"),
    Case("unknown-path", "/v1/nothing-here", status=404, says="Not Found"),
    Case("unknown-dataset", "/v1/public/counts", {**MONTHS, "dataset": "nope"}, status=404, says="unknown dataset"),
    Case("method-not-allowed", "/v1/counts", MONTHS, "analyst", 405, "Method Not Allowed", method="DELETE"),
    Case("missing-parameters", "/v1/public/counts", status=422, says="dataset"),
    Case("a-bad-enum", "/v1/public/counts", {**MONTHS, "level": "planet"}, status=422, says="level"),
    Case("not-a-month", "/v1/public/counts", {**MONTHS, "from": "2024-1"}, status=422, says="YYYY-MM"),
    Case("bad-json", "/v1/geocode", status=422, says="body", method="POST", body=b"{not json"),
    Case(
        "nul-in-a-body-field-name",
        "/v1/geocode",
        status=422,
        says="items[0].a?b",
        method="POST",
        body=b'{"items": [{"postcode": "BN21 4UH", "a\\u0000b": 1}]}',
    ),
]
CASES = CONTROL + CREDENTIALS + MONTH_BOUNDS + DATETIMES + NUMBERS + REFUSALS


@pytest.fixture(scope="module")
def clients(hub_env: HubEnv) -> dict[str, TestClient]:
    return {
        "public": hub_env.client(),
        "analyst": hub_env.api_client("eastbourne-csp", "analyst"),
        "essex": hub_env.api_client("essex-csp", "analyst"),
        "ig_lead": hub_env.api_client("eastbourne-csp", "ig_lead"),
        "bad_key": hub_env.client({"Authorization": "Bearer hub_nosuchkey_notavalidsecret"}),
    }


def _last_id(hub_env: HubEnv) -> int:
    return int(hub_env.query("SELECT coalesce(max(id), 0) FROM access_log")[0][0])


def _send(client: TestClient, case: Case) -> Response:
    answer: Response
    if case.body is not None:
        json_type = {"content-type": "application/json"}
        answer = client.request(case.method, case.path, content=case.body, headers=json_type)
    else:
        answer = client.request(case.method, case.path, params=case.params)
    return answer


def _assert_problem(answer: Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors"}
    assert body["status"] == status
    assert body["type"].endswith(f"#status.{status}")
    for error in body.get("errors", []):
        assert set(error) == {"parameter", "reason"}
    return body


def _forbidden_in_the_record(case: Case) -> list[str]:
    sent = [str(v) for v in case.params.values()] + [str(k) for k in case.params]
    hostile = [s for s in sent if any(ord(c) < 32 or ord(c) == 127 for c in s)]
    return hostile + [NUL, "\\u0000"] + ([case.secret] if case.secret else []) + ["notavalidsecret", "secretvalue"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_hostile_request_is_refused_with_a_problem_and_recorded_once(
    case: Case, clients: dict[str, TestClient], hub_env: HubEnv
) -> None:
    before = _last_id(hub_env)
    answer = _send(clients[case.who], case)
    body = _assert_problem(answer, case.status)
    assert case.says in body["detail"] + " ".join(e["reason"] + e["parameter"] for e in body.get("errors", []))
    for value in _forbidden_in_the_record(case):
        assert value not in answer.text
    rows = hub_env.query(
        "SELECT status, endpoint, query::text, org, role FROM access_log WHERE id > :before", before=before
    )
    assert len(rows) == 1, rows
    status, _, _, org, _ = rows[0]
    assert status == case.status
    for value in _forbidden_in_the_record(case):
        assert value not in f"{rows[0]}"
    if case.who == "bad_key":
        assert org in ("unknown", "unverified")


def test_a_refused_key_in_the_query_is_listed_by_name_only(clients: dict[str, TestClient], hub_env: HubEnv) -> None:
    before = _last_id(hub_env)
    clients["public"].get("/v1/public/counts", params={**MONTHS, "api_key": "hub_abc_topsecret"})
    [(query,)] = hub_env.query("SELECT query FROM access_log WHERE id > :before", before=before)
    assert query == {"_unknown": ["dataset", "from", "to", "api_key"]}


def test_known_parameters_are_logged_bounded_and_unknown_ones_by_name(
    clients: dict[str, TestClient], hub_env: HubEnv
) -> None:
    junk = {f"junk{i}": "J" * 500 for i in range(60)}
    before = _last_id(hub_env)
    params = {**MONTHS, "level": "lsoa", "category": "C" * 5000, **junk}
    answer = clients["public"].get("/v1/public/counts", params=params)
    assert answer.status_code == 200
    [(query,)] = hub_env.query("SELECT query FROM access_log WHERE id > :before", before=before)
    assert query["dataset"] == "police-uk-street" and query["from"] == "2024-01"
    assert query["category"] == "C" * 200
    assert query["_unknown"] == [f"junk{i}" for i in range(20)]
    assert "J" * 10 not in str(query)


def test_a_statement_over_the_timeout_answers_503_and_is_recorded(hub_env: HubEnv) -> None:
    """The data-quality report's table is locked by another transaction, so its statement waits past a 0.2 s
    statement timeout and is cancelled: a 503 problem."""
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, ApiSettings(statement_timeout_s=0.2))
    before = _last_id(hub_env)
    with TestClient(app) as client, hub_env.engine.begin() as locker:
        client.headers["Authorization"] = hub_env.api_client("hub", "ig_lead").headers["Authorization"]
        locker.execute(text("LOCK TABLE feed_total IN ACCESS EXCLUSIVE MODE"))
        answer = client.get("/v1/dq")
    body = _assert_problem(answer, 503)
    assert "statement timeout" in body["detail"]
    assert answer.headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_S)
    assert [r[0] for r in hub_env.query("SELECT status FROM access_log WHERE id > :b", b=before)] == [503]


def test_when_the_access_record_cannot_be_written_nothing_is_answered(hub_env: HubEnv) -> None:
    """Fail closed: an engine whose connections are refused cannot write the record, so the answer is a 503."""
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography)
    with TestClient(app) as client:
        app.state.engine.dispose()
        app.state.engine = app.state.engine.execution_options(isolation_level="NO SUCH LEVEL")
        answer = client.get("/v1/public/datasets")
    body = _assert_problem(answer, 503)
    assert "access record" in body["detail"]
    assert answer.headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_S)


def test_an_unexpected_exception_is_a_bare_500_problem_recorded_once(
    hub_env: HubEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """The safety net: a route that fails unexpectedly answers a 500 problem without a traceback; the log names
    the exception's type and place, never its message or the parameters' values."""
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography)

    def broken(area: str) -> None:
        raise RuntimeError(f"failed on {area}")

    app.add_api_route("/v1/broken", broken)
    before = _last_id(hub_env)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v1/broken", params={"area": "E05-marker-value"})
    body = _assert_problem(answer, 500)
    assert body["detail"] == "an unexpected failure; it has been logged"
    assert "Traceback" not in answer.text and "marker" not in answer.text
    assert "RuntimeError on /v1/broken" in caplog.text and "marker" not in caplog.text
    rows = hub_env.query("SELECT status, query FROM access_log WHERE id > :b", b=before)
    assert rows == [(500, {"area": "E05-marker-value"})]


def test_every_operation_declares_its_errors_as_problem_details(hub_env: HubEnv) -> None:
    document = hub_env.client().get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            assert {"400", "401", "403", "404", "422", "429", "431", "503"} <= set(declared), (method, path)
            for status in ("400", "401", "403", "404", "422", "429", "431", "503"):
                content = declared[status]["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def live(hub_env: HubEnv) -> Iterator[int]:
    """The API served by uvicorn on a free port (for what only real HTTP can send)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **HTTP_OPTIONS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(10)


def _raw_request(port: int, headers: bytes) -> bytes:
    """Send a GET with `headers`; the server's answer (b"" if it closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        with contextlib.suppress(OSError):  # the server may close while we still send; its answer was written first
            conn.sendall(b"GET /v1/public/datasets HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer


def test_headers_of_256_kb_are_refused_with_431_and_recorded_once(live: int, hub_env: HubEnv) -> None:
    """uvicorn (h11, `deploy.cli.api.HTTP_OPTIONS`) hands the app headers of up to 1 MiB; the edge refuses a header
    over 8 KiB with a 431 problem detail naming the header, and the access log has one row without its value."""
    before = _last_id(hub_env)
    answer = _raw_request(live, b"X-Junk: " + b"j" * 256 * 1024 + b"\r\nConnection: close\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 431 and problem["errors"] == [
        {"parameter": "x-junk", "reason": f"the header 'x-junk' is over {MAX_HEADER} bytes"}
    ]
    rows = hub_env.query("SELECT status, endpoint, query::text FROM access_log WHERE id > :b", b=before)
    assert rows == [(431, "/v1/public/datasets", "{}")]
    small = _raw_request(live, b"X-Junk: ok\r\nConnection: close\r\n")
    assert small.startswith(b"HTTP/1.1 200 ")


def test_headers_over_what_uvicorn_reads_get_its_plain_400_and_no_record(live: int, hub_env: HubEnv) -> None:
    """Past 1 MiB of headers uvicorn (h11) answers `400 Invalid HTTP request received.` (text/plain) and closes the
    connection before the app sees the request: a 4xx, but no access record (docs/api.md, "Headers")."""
    before = _last_id(hub_env)
    answer = _raw_request(live, b"X-Junk: " + b"j" * 2 * 1024 * 1024 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:100]
    assert b"Invalid HTTP request received." in answer
    assert _last_id(hub_env) == before


def test_over_its_rate_limit_a_caller_gets_429_with_retry_after_and_each_request_is_recorded(
    hub_env: HubEnv,
) -> None:
    """With 3 requests a minute per key and 2 per address: the 4th request with a key and the 3rd without one
    answer 429 problems saying when to try again; one caller's limit does not hold up another; every request has
    its access_log row and none holds the key."""
    limits = ApiSettings(key_requests_per_minute=3, address_requests_per_minute=2)
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, limits)
    authorization = hub_env.api_client("eastbourne-csp", "analyst").headers["Authorization"]
    secret = authorization.rsplit("_", 1)[1]
    before = _last_id(hub_env)
    with TestClient(app) as public, TestClient(app, headers={"Authorization": authorization}) as analyst:
        with_key = [analyst.get("/v1/indicators") for _ in range(4)]
        without = [public.get("/v1/public/datasets") for _ in range(3)]
    assert [a.status_code for a in with_key] == [200, 200, 200, 429]
    assert [a.status_code for a in without] == [200, 200, 429]
    for refused, per_minute in ((with_key[3], 3), (without[2], 2)):
        body = _assert_problem(refused, 429)
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 60 // per_minute
        assert f"over {per_minute} requests a minute" in body["detail"] and f"in {wait} s" in body["detail"]
        assert secret not in refused.text
    rows = hub_env.query("SELECT status, endpoint, org FROM access_log WHERE id > :b ORDER BY id", b=before)
    assert rows == [
        *[(200, "/v1/indicators", "eastbourne-csp")] * 3,
        (429, "/v1/indicators", "unverified"),  # the limit comes before the key is checked
        *[(200, "/v1/public/datasets", "public")] * 2,
        (429, "/v1/public/datasets", "public"),
    ]
    logged = hub_env.query("SELECT * FROM access_log WHERE id > :b", b=before)
    assert secret not in str(logged)


CONTRACT_EXAMPLES = 10  # per operation, caller and generation mode: bounded, so the whole walk takes well under 2 min


@pytest.mark.parametrize("who", ["public", "analyst", "ig_lead"])
def test_the_api_keeps_its_openapi_contract_under_generated_input(
    who: str, live: int, clients: dict[str, TestClient]
) -> None:
    """schemathesis walks every operation with generated valid and invalid input: no server error, no status the
    operation does not declare, no answer outside its declared schema or content type."""
    base = f"http://127.0.0.1:{live}"
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    headers = {k: v for k, v in clients[who].headers.items() if k.lower() == "authorization"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid OpenAPI
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=CONTRACT_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
            )
            def walk(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(base_url=base, headers=headers, checks=checks)

            try:
                walk()
            except Unsatisfiable:
                continue  # an operation without parameters has no invalid input to generate
            except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every operation that fails
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
