"""A test client signed in to the web application through its own sign-in form, as a person pasting their key."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from warehouse.governance.keys import create_key
from warehouse.schema.db import session_scope


def signed_in(app: FastAPI, engine: Engine, org: str, role: str) -> TestClient:
    """A client (redirects not followed) signed in with a fresh API key of `org`'s `role`."""
    with session_scope(engine) as session:
        key = create_key(session, org, role)
    client = TestClient(app, follow_redirects=False)
    found = re.search(r'name="login_token" value="([^"]+)"', client.get("/web/sign-in").text)
    assert found is not None, "the sign-in form has no login token"
    answer = client.post("/web/sign-in", data={"login_token": found.group(1), "key": key})
    assert answer.status_code == 303, answer.text
    return client
