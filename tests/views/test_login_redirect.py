"""After sign-in only a path on this site is followed: every other `next` lands on the role's
own screen, and none answers 500."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.factories import PASSWORD

# As they arrive in the query string (percent-encoded as an attacker would send them).
NASTY_NEXT = [
    "/%09/evil.example/",  # a tab: browsers drop it and read //evil.example/
    "/%0A/x",  # a newline in the Location header
    "/%0D%0ALocation:%20https://evil.example/",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/%5Cevil.example",  # /\evil.example: browsers read the backslash as a slash
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "/%252F%252Fevil.example",  # /%2F%2Fevil.example, which a decoding proxy turns into ///evil
    "/%255Cevil.example",
    "https:evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "%20//evil.example",
    "/%E2%80%8B/evil.example",  # a zero-width space between the slashes
    "/%EF%BC%8Fevil.example",  # fullwidth solidus: NFKC makes it "/"
    "%EF%BC%8F%EF%BC%8Fevil.example",
    "/%E2%88%95evil.example",  # division slash
    "/%E2%81%84evil.example",  # fraction slash
    "",
    "/" + "a" * 3000,
]


@pytest.fixture
def root(app):
    factories.user("root", "admin")
    db.session.commit()


@pytest.mark.parametrize("raw_next", NASTY_NEXT)
def test_a_next_that_leaves_the_site_lands_on_the_role_screen(client, root, raw_next):
    response = client.post(f"/login?next={raw_next}", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_a_next_holding_nul_is_refused_with_no_redirect(client, root):
    # The screens refuse NUL anywhere (tests/views/test_nul_characters.py): no sign-in, no Location.
    response = client.post("/login?next=/%00/evil.example", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(("raw_next", "location"), [
    ("%2Fstore%2Fpackages%3Ftab%3Dx", "/store/packages?tab=x"),
    ("/admin/users/?page=2", "/admin/users/?page=2"),
    ("/store/%C3%A7orap", "/store/%C3%A7orap"),  # a letter beyond ASCII is a path like any other
])
def test_a_path_on_this_site_is_followed(client, root, raw_next, location):
    response = client.post(f"/login?next={raw_next}", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == location
