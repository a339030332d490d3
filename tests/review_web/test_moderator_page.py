"""The moderators' page at /review/: who may open it, what it is built from (its own script
and the review API, nothing from elsewhere), and the links that lead to it."""

import html
import json
import re

import pytest
from django.contrib.staticfiles import finders

from accounts.models import Program, ProgramStatus, Role
from accounts.selectors import program_get
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ATTRIBUTE_URLS = re.compile(r'(?<![\w-])(?:src|href|action|poster|data-[a-z-]+-url)="([^"]*)"')


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(("roles", "status"), [
    ([Role.MODERATOR], 200),
    ([Role.PROGRAM_ADMIN], 200),
    ([Role.MODERATOR, Role.TESTER], 200),
    ([Role.TESTER], 403),
    ([Role.RESEARCHER], 403),
    ([], 403),
])
def test_the_page_is_for_moderators_and_program_admins(web_client, roles, status):
    # when
    response = web_client(UserFactory(roles=roles)).get("/review/")

    # then
    assert response.status_code == status
    page = response.content.decode()
    if status == 200:
        assert response.templates[0].name == "review/moderate.html"
        assert 'data-testid="review-page"' in page
    else:
        assert response.templates[0].name == "core/error.html"
        assert ('<p data-testid="error-message">This page is for moderators and program '
                'admins.</p>') in page
        assert 'data-testid="review-page"' not in page


def test_anonymous_visitors_are_sent_to_sign_in(web_client):
    # when
    response = web_client().get("/review/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/review/"


def test_the_page_takes_no_posts(web_client, moderator, csrf_token):
    # given
    client = web_client(moderator)
    token = csrf_token(client, "/review/")

    # when
    response = client.post("/review/", {"csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 405


def test_moderators_keep_the_page_while_the_program_is_suspended(web_client, moderator):
    # given
    program_get()
    Program.objects.update(status=ProgramStatus.SUSPENDED, reason="Leak")

    # when
    response = web_client(moderator).get("/review/")

    # then
    assert response.status_code == 200


def test_the_page_loads_its_own_script_and_talks_to_the_review_api(web_client, moderator):
    # when
    response = web_client(moderator).get("/review/")

    # then
    page = response.content.decode()
    assert '<script src="/static/review/review.js" defer></script>' in page
    assert 'name="csrfmiddlewaretoken"' in page
    placeholder = "00000000-0000-0000-0000-000000000000"
    assert 'data-claims-url="/api/v1/review/claims/"' in page
    assert 'data-queue-url="/api/v1/review/queue/"' in page
    assert 'data-reasons-url="/api/v1/review/reasons/"' in page
    assert f'data-renew-url="/api/v1/review/claims/{placeholder}/renew/"' in page
    assert f'data-release-url="/api/v1/review/claims/{placeholder}/release/"' in page
    assert f'data-decide-url="/api/v1/review/claims/{placeholder}/decide/"' in page
    assert f'data-placeholder="{placeholder}"' in page
    outcomes = re.search(r'data-outcomes="([^"]*)"', page).group(1)
    assert json.loads(html.unescape(outcomes)) == {
        "primary": ["approve", "escalate", "reject"], "appeal": ["approve", "escalate", "reject"],
        "escalation": ["approve", "reject"], "second_opinion": ["approve", "reject"]}
    assert finders.find("review/review.js") is not None
    # enabled by the script once it runs, so an early click is never silently lost
    assert '<button type="button" id="start" data-testid="start-reviewing" disabled' in page


def test_nothing_on_the_page_comes_from_another_site(web_client, moderator):
    # when
    page = web_client(moderator).get("/review/").content.decode()

    # then: every URL in the page is a path on this site, and so is every script
    urls = ATTRIBUTE_URLS.findall(page)
    assert urls, "the page names no URLs at all"
    assert [url for url in urls if not url.startswith(("/", "#")) or url.startswith("//")] == []
    assert "http://" not in page
    assert "https://" not in page
    assert re.findall(r"<script\b[^>]*>", page) == [
        '<script src="/static/review/review.js" defer>']
    for asset in ("review/review.js", "core/app.css"):
        with open(finders.find(asset), encoding="utf-8") as handle:
            source = handle.read()
        assert "http:" not in source
        assert "https:" not in source
        assert "@import" not in source
        assert "import(" not in source


def test_the_page_shows_its_keyboard_shortcuts_and_only_one_lease_length(web_client,
                                                                         moderator):
    # given
    program_get()
    Program.objects.update(lease_seconds=300)

    # when
    response = web_client(moderator).get("/review/")

    # then
    text = _text(response)
    for key, what in [("A", "Approve"), ("R", "Reject"), ("E", "Escalate"),
                      ("S</kbd> or <kbd>N", "Release and take the next item"),
                      ("1</kbd>\N{EN DASH}<kbd>9", "Tick or untick the first nine reasons")]:
        assert f"<kbd>{key}</kbd></dt><dd>{what}" in text
    assert re.search(r"keeps it yours for\s+300 seconds", text)
    for shortcut in ('aria-keyshortcuts="A"', 'aria-keyshortcuts="R"', 'aria-keyshortcuts="E"',
                     'aria-keyshortcuts="S N"'):
        assert shortcut in text


def test_the_status_region_and_labels_are_there_for_assistive_technology(web_client,
                                                                         moderator):
    # when
    page = web_client(moderator).get("/review/").content.decode()

    # then
    assert '<p id="review-status" class="review-status" role="status" aria-live="polite"' in page
    assert '<div id="review-errors" class="errors" role="alert" hidden' in page
    assert 'role="timer"' in page
    for field in ("note-to-tester", "internal-note"):
        assert f'<label for="{field}">' in page
        assert f'<textarea id="{field}"' in page
    assert "<legend>Reasons for a rejection</legend>" in page


@pytest.mark.parametrize(("roles", "linked"), [
    ([Role.MODERATOR], True),
    ([Role.PROGRAM_ADMIN], True),
    ([Role.TESTER], False),
    ([Role.RESEARCHER], False),
])
def test_the_review_nav_link_is_for_those_who_review(web_client, roles, linked):
    # when
    page = web_client(UserFactory(roles=roles)).get("/home/").content.decode()

    # then
    assert ('<a href="/review/" data-testid="nav-review">Review</a>' in page) is linked


def test_the_moderators_home_section_starts_reviewing(web_client, moderator):
    # when
    page = web_client(moderator).get("/home/").content.decode()

    # then
    assert ('<a class="button" href="/review/#start" data-testid="start-reviewing">'
            'Start reviewing</a>') in page
    assert 'data-testid="review-escalations"' not in page


def test_the_program_admins_home_section_links_to_escalations(web_client, program_admin):
    # when
    page = web_client(program_admin).get("/home/").content.decode()

    # then
    assert 'href="/review/" data-testid="review-escalations">Review escalations</a>' in page
    assert 'data-testid="start-reviewing"' not in page
