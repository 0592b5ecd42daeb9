"""Error pages: the site's header and a way back for people, JSON with a stable code for API
clients, and a 500 page that still answers when its own template cannot."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client, RequestFactory

from chat.models import Room
from chat.web import errors

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gets_the_styled_404_with_the_site_header_and_a_way_back() -> None:
    response = Client().get("/no/such/page")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="site-header"' in page
    assert 'data-testid="error-page" data-status="404"' in page
    assert "Page not found" in page
    assert 'href="/">Back to the rooms</a>' in page
    assert 'href="/accounts/login/?next=/no/such/page"' in page  # a guest may lack access
    assert "css/site" in page  # styled, not Django's bare text


def test_an_api_client_gets_json_with_a_stable_code() -> None:
    response = Client().get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_moderators_page_refused_says_why_on_a_styled_403(
    room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    room.owner = alice
    room.save()
    client = Client()
    client.force_login(bob)
    response = client.get(f"/rooms/{room.slug}/moderate")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-status="403"' in page
    assert 'class="site-header"' in page
    assert "moderator" in page.lower()
    assert response["Content-Type"].startswith("text/html")


def test_a_failed_csrf_check_on_a_form_gets_the_styled_403(alice: AbstractBaseUser) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/rooms/new", {"slug": "x", "title": "X"})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-status="403"' in page
    assert "Reload the page" in page


def test_the_500_page_is_styled(alice: AbstractBaseUser) -> None:
    request = RequestFactory().get("/somewhere")
    request.user = alice
    response = errors.server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-status="500"' in page
    assert 'class="site-header"' in page


def test_the_500_page_answers_bare_when_its_template_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(errors.loader, "render_to_string", broken)
    request = RequestFactory().get("/somewhere")  # no user: the session middleware never ran
    response = errors.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b'href="/"' in response.content


def test_a_request_refused_before_authentication_gets_a_guests_page() -> None:
    request = RequestFactory().get("/healthz", HTTP_HOST="not-allowed.example")  # no user, no session
    response = errors.bad_request(request)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-status="400"' in page
    assert "Log in" in page  # the guest's header


def test_a_disallowed_host_gets_400_not_a_crash() -> None:
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400
