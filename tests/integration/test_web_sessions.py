"""Signing in to the web application with an API key (issue 15): the session cookie and its flags, session
fixation, sign-out, absolute and idle expiry, a revoked key, CSRF on forms and on the API, login CSRF, the open
redirect, the refusal and not-found pages, and the security headers of every answer; over the real database."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api.factory import create_app
from api.settings import ApiSettings
from api.web_session import csrf_token
from tests.support.hub import UNLIMITED, HubEnv
from warehouse.governance.keys import create_key, revoke_key
from warehouse.schema.db import session_scope
from web.install import install_web
from web.settings import WebSettings
from web.viewer import Viewer, role_page

pytestmark = pytest.mark.integration

HOMES = {"analyst": "/web/analyst/", "ig_lead": "/web/ig/", "partner": "/web/partner/"}
ORGS = {"analyst": "eastbourne_csp", "ig_lead": "hub", "partner": "sussex_police"}
SETTINGS = WebSettings(assets_dir=Path("."), session_hours=2, idle_minutes=20, sign_ins_per_minute=1000)
API_PATH = "/v1/indicators"  # needs a key or a session: the public gets 401
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Pages of the test's own (the role pages are other modules' work): who may see them is all they show.
role_pages = APIRouter(prefix="/web/tests", include_in_schema=False)


@role_pages.get("/ig-only")
def ig_only(viewer: Annotated[Viewer, Depends(role_page("ig_lead"))]) -> str:
    return viewer.caller.org


@role_pages.get("/analyst-only")
def analyst_only(viewer: Annotated[Viewer, Depends(role_page("analyst"))]) -> str:
    return viewer.caller.org


@pytest.fixture(scope="module")
def app(hub_env: HubEnv) -> Iterator[FastAPI]:
    web_app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED, cdn_docs=False)
    web_app.include_router(role_pages)
    install_web(web_app, SETTINGS)
    with TestClient(web_app):
        yield web_app


def _client(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def _key(hub_env: HubEnv, role: str) -> str:
    with session_scope(hub_env.engine) as session:
        return create_key(session, ORGS.get(role, "public"), role)


def _login_token(page: httpx.Response) -> str:
    found = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient, key: str, next_path: str | None = None) -> httpx.Response:
    """Open the sign-in form, then submit it with `key` (and `next`)."""
    token = _login_token(client.get("/web/sign-in"))
    form = {"login_token": token, "key": key, **({"next": next_path} if next_path is not None else {})}
    answer: httpx.Response = client.post("/web/sign-in", data=form)
    return answer


def _session_cookie(response: httpx.Response) -> SimpleCookie:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("hub_session=")]
    assert len(cookies) == 1, cookies
    return SimpleCookie(cookies[0])


def _signed_in(app: FastAPI, hub_env: HubEnv, role: str) -> tuple[TestClient, str]:
    client = _client(app)
    answer = _sign_in(client, _key(hub_env, role))
    assert answer.status_code == 303
    return client, str(client.cookies["hub_session"])


def _session_row(hub_env: HubEnv, token: str) -> tuple[object, ...]:
    digest = hashlib.sha256(token.encode()).hexdigest()
    rows = hub_env.query("SELECT key_id, org, role, ended_at FROM web_session WHERE token_sha256 = :t", t=digest)
    assert len(rows) == 1
    return rows[0]


def _set_session(hub_env: HubEnv, token: str, assignment: str) -> None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with hub_env.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE web_session SET {assignment} WHERE token_sha256 = %(t)s", {"t": digest})


def _redirect(answer: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert not location.netloc
    return location.path, parse_qs(location.query)


@pytest.mark.parametrize("role", sorted(HOMES))
def test_each_role_signs_in_with_its_key_and_lands_on_its_home(app: FastAPI, hub_env: HubEnv, role: str) -> None:
    key = _key(hub_env, role)
    client = _client(app)
    answer = _sign_in(client, key)
    assert _redirect(answer) == (HOMES[role], {})
    token = str(client.cookies["hub_session"])
    assert token not in key and key not in token
    key_id, org, stored_role, ended = _session_row(hub_env, token)
    assert (key_id, org, stored_role, ended) == (key.split("_")[1], ORGS[role], role, None)
    assert _redirect(client.get("/web/"))[0] == HOMES[role]
    # The API answers the page's fetch as the key's owner: the same answer as with the key itself.
    with_cookie = client.get(API_PATH)
    with_key = _client(app).get(API_PATH, headers={"Authorization": f"Bearer {key}"})
    assert with_cookie.status_code == with_key.status_code
    assert with_cookie.json() == with_key.json()
    logged = hub_env.query(
        "SELECT org, role, status FROM access_log WHERE endpoint = :e ORDER BY id DESC LIMIT 2", e=API_PATH
    )
    assert logged[0] == logged[1] and logged[0][:2] == (ORGS[role], role)


def test_a_public_key_may_not_sign_in_and_the_page_says_why(app: FastAPI, hub_env: HubEnv) -> None:
    client = _client(app)
    answer = _sign_in(client, _key(hub_env, "public"))
    assert answer.status_code == 403
    assert "A public key cannot sign in" in answer.text and "govuk-error-summary" in answer.text
    assert "hub_session" not in client.cookies


@pytest.mark.parametrize("key", ["", "nonsense", "hub_0123456789abcdef_forged"])
def test_a_wrong_key_shows_the_error_summary_and_sets_no_session(app: FastAPI, hub_env: HubEnv, key: str) -> None:
    client = _client(app)
    before = hub_env.query("SELECT count(*) FROM access_log WHERE endpoint = '/web/sign-in' AND status = 401")[0][0]
    answer = _sign_in(client, key)
    assert answer.status_code == 401
    assert 'class="govuk-error-summary"' in answer.text and 'href="#api-key"' in answer.text
    assert "Error: Sign in" in answer.text  # the title says so too
    assert not any(v.startswith("hub_session=") for k, v in answer.headers.multi_items() if k == "set-cookie")
    after = hub_env.query("SELECT count(*), min(org) FROM access_log WHERE endpoint = '/web/sign-in' AND status = 401")[
        0
    ]
    assert after == (before + 1, "unknown")


def test_the_sign_in_form_asks_for_the_key_as_a_password_not_remembered(app: FastAPI) -> None:
    page = _client(app).get("/web/sign-in")
    assert page.status_code == 200
    field = re.search(r'<input[^>]*name="key"[^>]*>', page.text)
    assert field is not None and 'type="password"' in field.group(0) and 'autocomplete="off"' in field.group(0)
    assert "<label" in page.text and 'for="api-key"' in page.text


@pytest.mark.parametrize(("base_url", "secure"), [("http://testserver", False), ("https://testserver", True)])
def test_the_session_cookie_is_httponly_strict_site_wide_and_secure_over_tls(
    app: FastAPI, hub_env: HubEnv, base_url: str, secure: bool
) -> None:
    answer = _sign_in(_client(app, base_url), _key(hub_env, "analyst"))
    morsel = _session_cookie(answer)["hub_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/"
    assert morsel["max-age"] == str(2 * 3600)
    assert bool(morsel["secure"]) is secure


def test_signing_in_never_reuses_a_session_the_browser_already_held(app: FastAPI, hub_env: HubEnv) -> None:
    # An attacker plants a valid session of theirs (or any value) in the victim's browser before the victim signs in.
    planted_client, planted = _signed_in(app, hub_env, "partner")
    victim = _client(app)
    victim.cookies.set("hub_session", planted)
    answer = _sign_in(victim, _key(hub_env, "analyst"))
    assert answer.status_code == 303
    fresh = _session_cookie(answer)["hub_session"].value
    assert fresh != planted
    assert _session_row(hub_env, planted)[3] is not None  # the planted session was ended
    assert _session_row(hub_env, fresh)[2] == "analyst"
    assert planted_client.get(API_PATH).status_code == 401


def test_signing_out_ends_the_session_for_the_pages_and_the_api(app: FastAPI, hub_env: HubEnv) -> None:
    client, token = _signed_in(app, hub_env, "analyst")
    assert client.get(API_PATH).status_code == 200
    answer = client.post("/web/sign-out", data={"csrf_token": csrf_token(token)})
    assert _redirect(answer) == ("/web/sign-in", {})
    logged = hub_env.query("SELECT org, role FROM access_log WHERE endpoint = '/web/sign-out' ORDER BY id DESC LIMIT 1")
    assert logged == [(ORGS["analyst"], "analyst")]
    cleared = _session_cookie(answer)["hub_session"]
    assert cleared.value == "" and cleared["max-age"] == "0"
    assert _session_row(hub_env, token)[3] is not None
    replay = _client(app)
    replay.cookies.set("hub_session", token)
    refused = replay.get(API_PATH)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _redirect(replay.get("/web/tests/analyst-only?dataset=x&period=month")) == (
        "/web/sign-in",
        {"next": ["/web/tests/analyst-only?dataset=x&period=month"]},
    )


@pytest.mark.parametrize(
    "assignment",
    ["expires_at = now() - interval '1 second'", "last_seen_at = now() - interval '21 minutes'"],
    ids=["absolute", "idle"],
)
def test_an_expired_session_is_refused_and_the_page_says_it_expired(
    app: FastAPI, hub_env: HubEnv, assignment: str
) -> None:
    client, token = _signed_in(app, hub_env, "ig_lead")
    _set_session(hub_env, token, "last_seen_at = now() - interval '19 minutes'")
    assert client.get(API_PATH).status_code == 200  # within the idle limit; this use restarts it
    _set_session(hub_env, token, assignment)
    assert client.get(API_PATH).status_code == 401
    path, query = _redirect(client.get("/web/tests/ig-only"))
    assert (path, query) == ("/web/sign-in", {"next": ["/web/tests/ig-only"], "expired": ["1"]})
    notice = client.get("/web/sign-in?next=/web/tests/ig-only&expired=1")
    assert "Your session has expired" in notice.text and 'name="next" value="/web/tests/ig-only"' in notice.text


def test_revoking_the_key_ends_its_sessions(app: FastAPI, hub_env: HubEnv) -> None:
    client, token = _signed_in(app, hub_env, "analyst")
    assert client.get(API_PATH).status_code == 200
    with session_scope(hub_env.engine) as session:
        assert revoke_key(session, str(_session_row(hub_env, token)[0]))
    assert client.get(API_PATH).status_code == 401
    assert _redirect(client.get("/web/"))[0] == "/web/sign-in"


@pytest.mark.parametrize("sent", [None, "", "0" * 64, "wrong"])
def test_signing_out_needs_the_sessions_csrf_token(app: FastAPI, hub_env: HubEnv, sent: str | None) -> None:
    client, token = _signed_in(app, hub_env, "partner")
    answer = client.post("/web/sign-out", data={} if sent is None else {"csrf_token": sent})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert _session_row(hub_env, token)[3] is None
    assert client.get(API_PATH).status_code == 200  # still signed in


@pytest.mark.parametrize("sent", [None, "", "wrong"])
def test_a_cookie_authenticated_api_call_that_may_change_state_needs_the_csrf_header(
    app: FastAPI, hub_env: HubEnv, sent: str | None
) -> None:
    client, token = _signed_in(app, hub_env, "analyst")
    body = {"items": [{"postcode": "BN21 4UH"}]}
    headers = {} if sent is None else {"X-CSRF-Token": sent}
    refused = client.post("/v1/geocode", json=body, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "X-CSRF-Token" in refused.json()["detail"]
    allowed = client.post("/v1/geocode", json=body, headers={"X-CSRF-Token": csrf_token(token)})
    assert allowed.status_code not in (401, 403), allowed.text
    # A key in the Authorization header is not a browser's ambient credential: no CSRF token needed.
    keyed = _client(app).post("/v1/geocode", json=body, headers={"Authorization": f"Bearer {_key(hub_env, 'analyst')}"})
    assert keyed.status_code == allowed.status_code


def test_a_forged_or_unknown_session_cookie_is_a_401_on_the_api(app: FastAPI) -> None:
    client = _client(app)
    client.cookies.set("hub_session", "forged-session-token")
    answer = client.get(API_PATH)
    assert answer.status_code == 401 and answer.headers["content-type"].startswith("application/problem+json")
    assert _redirect(client.get("/web/tests/analyst-only"))[0] == "/web/sign-in"


@pytest.mark.parametrize("login_token", [None, "", "x" * 43])
def test_sign_in_without_the_forms_own_token_is_refused(app: FastAPI, hub_env: HubEnv, login_token: str | None) -> None:
    # Login CSRF: another site posts its own key to sign the victim in as the attacker.
    client = _client(app)
    client.get("/web/sign-in")  # the victim's browser holds a pre-session cookie; the forged form cannot know it
    form = {"key": _key(hub_env, "analyst"), **({"login_token": login_token} if login_token is not None else {})}
    answer = client.post("/web/sign-in", data=form)
    assert answer.status_code == 403
    assert "govuk-error-summary" in answer.text
    assert "hub_session" not in client.cookies
    # Without the pre-session cookie at all (a cross-site request does not carry a SameSite=Strict cookie).
    bare = _client(app).post("/web/sign-in", data={"key": form["key"], "login_token": "y" * 43})
    assert bare.status_code == 403


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/web/analyst/trends?dataset=asb&period=month", "/web/analyst/trends?dataset=asb&period=month"),
        ("//evil.example/", "/web/analyst/"),
        ("/\\evil.example/", "/web/analyst/"),
        ("/\t/evil.example/", "/web/analyst/"),
        ("https://evil.example/", "/web/analyst/"),
        ("evil.example", "/web/analyst/"),
        ("/%5Cevil.example", "/%5Cevil.example"),  # a path on this site (its 404 page), not another site
    ],
)
def test_sign_in_returns_only_to_a_path_on_this_site(
    app: FastAPI, hub_env: HubEnv, next_path: str, landing: str
) -> None:
    answer = _sign_in(_client(app), _key(hub_env, "analyst"), next_path)
    assert answer.status_code == 303
    assert answer.headers["location"] == landing


def test_a_role_that_may_not_see_a_page_gets_the_refusal_page(app: FastAPI, hub_env: HubEnv) -> None:
    client, _ = _signed_in(app, hub_env, "partner")
    answer = client.get("/web/tests/ig-only")
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "You cannot see this page" in answer.text and "information-governance leads" in answer.text
    assert "Traceback" not in answer.text and 'href="/web/partner/"' in answer.text
    ig_client, _ = _signed_in(app, hub_env, "ig_lead")
    assert ig_client.get("/web/tests/ig-only").json() == "hub"


def test_an_unknown_web_path_is_a_not_found_page(app: FastAPI, hub_env: HubEnv) -> None:
    client, _ = _signed_in(app, hub_env, "analyst")
    answer = client.get("/web/no-such-page")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html") and "Page not found" in answer.text
    assert 'href="/web/analyst/scorecard"' in answer.text  # the signed-in analyst's navigation
    public = _client(app).get("/web/no-such-page")
    assert public.status_code == 404 and "Page not found" in public.text and "/web/analyst/scorecard" not in public.text


@pytest.mark.parametrize(
    "path", ["/web/sign-in", "/web/", "/web/nothing", "/v1/indicators", "/healthz", "/static/js/hub.js", "/v1/nothing"]
)
def test_every_answer_carries_the_security_headers(app: FastAPI, path: str) -> None:
    answer = _client(app).get(path)
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-frame-options"] == "DENY"
    cacheable = path.startswith("/static/")
    assert (answer.headers.get("cache-control") == "no-store") is not cacheable


def test_the_session_token_is_never_logged(app: FastAPI, hub_env: HubEnv, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG"):
        client, token = _signed_in(app, hub_env, "analyst")
        client.get(API_PATH)
        client.get("/web/tests/analyst-only")
        client.post("/web/sign-out", data={"csrf_token": csrf_token(token)})
    assert token not in caplog.text
    logged = hub_env.query("SELECT count(*) FROM access_log WHERE CAST(query AS text) LIKE :t", t=f"%{token}%")
    assert logged == [(0,)]
    assert hub_env.query("SELECT count(*) FROM web_session WHERE token_sha256 = :t", t=token) == [(0,)]


def test_sign_in_attempts_are_rate_limited_per_address(hub_env: HubEnv) -> None:
    limited = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED, cdn_docs=False)
    install_web(limited, SETTINGS.model_copy(update={"sign_ins_per_minute": 2}))
    with TestClient(limited, follow_redirects=False) as client:
        assert [_sign_in(client, "wrong").status_code for _ in range(2)] == [401, 401]
        refused = _sign_in(client, _key(hub_env, "analyst"))  # even the right key, until the minute has passed
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "Too many sign-in attempts" in refused.text
        assert "hub_session" not in client.cookies


def test_a_page_view_is_recorded_in_the_access_log_as_the_signed_in_caller(app: FastAPI, hub_env: HubEnv) -> None:
    client, _ = _signed_in(app, hub_env, "ig_lead")
    assert client.get("/web/tests/ig-only").status_code == 200
    logged = hub_env.query(
        "SELECT org, role, status FROM access_log WHERE endpoint = '/web/tests/ig-only' ORDER BY id DESC LIMIT 1"
    )
    assert logged == [("hub", "ig_lead", 200)]


@pytest.mark.parametrize(
    "body",
    [b"key=" + b"A" * 20_000, b"\xff\xfe%%%=&&login_token", b"login_token=%00&key=hub_%00_%00"],
    ids=["oversized", "not-utf8", "nul-bytes"],
)
def test_a_hostile_sign_in_form_is_refused_as_a_page_not_a_failure(app: FastAPI, body: bytes) -> None:
    client = _client(app)
    client.get("/web/sign-in")
    answer = client.post("/web/sign-in", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html") and "govuk-error-summary" in answer.text


def test_a_signed_in_persons_requests_are_limited_per_session_and_the_pages_files_not_at_all(
    hub_env: HubEnv,
) -> None:
    """With 3 requests a minute per key (and accepted session) and 6 per address: two people sign in from one
    address (4 requests of the address) and each first call counts as the address too (the API has not accepted
    the new session yet: 6); then each gets 3 calls of their own (the 5th is a 429), however many of the pages'
    files they load."""
    limits = ApiSettings(key_requests_per_minute=3, address_requests_per_minute=6)
    limited = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, limits, cdn_docs=False)
    install_web(limited, SETTINGS)
    with TestClient(limited):
        people = []
        for _ in range(2):
            client = _client(limited)
            key = _key(hub_env, "analyst")
            token = _login_token(client.get("/web/sign-in"))
            assert client.post("/web/sign-in", data={"login_token": token, "key": key}).status_code == 303
            people.append(client)
        for client in people:
            files = [client.get("/static/js/hub.js").status_code for _ in range(5)]
            calls = [client.get(API_PATH).status_code for _ in range(5)]
            assert files == [200] * 5
            assert calls == [200, 200, 200, 200, 429]


def test_made_up_session_cookies_count_against_the_address(hub_env: HubEnv) -> None:
    """A new made-up session cookie on each request opens no bucket of its own: with 2 requests a minute per
    address, the third is a 429 whatever cookie it carries."""
    limits = ApiSettings(key_requests_per_minute=100, address_requests_per_minute=2)
    limited = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, limits, cdn_docs=False)
    install_web(limited, SETTINGS)
    with TestClient(limited) as client:
        statuses = [
            client.get(API_PATH, headers={"Cookie": f"hub_session={secrets.token_urlsafe(32)}"}).status_code
            for _ in range(3)
        ]
    assert statuses == [401, 401, 429]
