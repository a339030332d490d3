"""Error pages, the health check, and the API's schema and docs (served without a CDN)."""

import json
import os
import re
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import OperationalError, connection
from django.utils.module_loading import import_string

import config.urls

ROOT = Path(__file__).resolve().parents[2]

ACCOUNTS_PATHS = {
    "/api/v1/auth/token/": ["delete", "post"],
    "/api/v1/cohorts/": ["get"],
    "/api/v1/invitations/": ["get", "post"],
    "/api/v1/invitations/redeem/": ["post"],
    "/api/v1/invitations/{invitation_id}/revoke/": ["post"],
    "/api/v1/me/": ["get"],
    "/api/v1/program/": ["get"],
    "/api/v1/program/pause/": ["post"],
    "/api/v1/program/resume/": ["post"],
    "/api/v1/program/suspend/": ["post"],
}


class _References(HTMLParser):
    """Every URL a page makes the browser fetch or follow (src, href)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls.extend(value for name, value in attrs if name in ("src", "href") and value)


def _references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return parser.urls


def _get(url: str) -> tuple[int, bytes]:
    # Only ever the live test server on localhost.
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return response.status, response.read()


def test_an_unknown_page_is_a_404_html_page(web_client, db):
    # when
    response = web_client().get("/no-such-page/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert '<p data-testid="error-message">Not found.</p>' in response.content.decode()


def test_an_unknown_api_path_is_a_404_json_error(web_client, db):
    # when
    response = web_client().get("/api/v1/no-such-thing/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found."}


@pytest.mark.parametrize(("path", "content_type", "marker"), [
    ("/home/", "text/html; charset=utf-8",
     '<p data-testid="error-message">Something went wrong on our side.</p>'),
    ("/api/v1/me/", "application/json",
     '{"code": "server.error", "message": "Something went wrong on our side."}'),
])
def test_a_server_error_answers_html_or_json(rf, db, path, content_type, marker):
    # given: the handler Django calls on an unhandled exception
    handler = import_string(config.urls.handler500)

    # when
    response = handler(rf.get(path))

    # then
    assert response.status_code == 500
    assert response["Content-Type"] == content_type
    assert marker in response.content.decode()


def _database_down(execute, sql, params, many, context):
    raise OperationalError("connection refused")


def test_the_api_server_error_answers_without_the_database(rf, db):
    # given
    handler = import_string(config.urls.handler500)

    # when
    with connection.execute_wrapper(_database_down):
        response = handler(rf.get("/api/v1/me/"))

    # then
    assert response.status_code == 500
    assert json.loads(response.content) == {"code": "server.error",
                                            "message": "Something went wrong on our side."}


def test_the_html_server_error_page_answers_without_the_database(rf, db):
    # given
    handler = import_string(config.urls.handler500)

    # when
    with connection.execute_wrapper(_database_down):
        response = handler(rf.get("/home/"))

    # then
    assert response.status_code == 500
    assert "Something went wrong on our side." in response.content.decode()


def test_the_health_check_reports_the_database(web_client, db):
    # when
    response = web_client().get("/healthz/")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_the_health_check_reports_a_database_that_is_down(web_client, db):
    # when
    with connection.execute_wrapper(_database_down):
        response = web_client().get("/healthz/")

    # then
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


def test_the_schema_lists_the_accounts_api(web_client, db):
    # when
    response = web_client().get("/api/v1/schema/",
                                HTTP_ACCEPT="application/vnd.oai.openapi+json")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    schema = json.loads(response.content)
    assert schema["openapi"] == "3.0.3"
    assert schema["info"]["title"] == "Early Access API"
    paths = {path: sorted(operations) for path, operations in schema["paths"].items()}
    assert {path: paths.get(path) for path in ACCOUNTS_PATHS} == ACCOUNTS_PATHS


def test_the_schema_is_yaml_by_default(web_client, db):
    # when
    response = web_client().get("/api/v1/schema/")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert response.content.startswith(b"openapi: 3.0.3\n")


def test_the_api_docs_reference_no_other_host(web_client, db):
    # when
    response = web_client().get("/api/docs/")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    urls = _references(page)
    assert urls == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
    ]
    assert all(url.startswith("/") and not url.startswith("//") for url in urls)
    assert 'url: "/api/v1/schema/"' in page
    assert "cdn" not in page.lower()
    assert re.findall(r"https?://", page) == []


@pytest.mark.django_db(transaction=True)
def test_every_asset_of_the_api_docs_is_served_by_the_app(live_server):
    # given
    status, body = _get(live_server.url + "/api/docs/")
    assert status == 200
    page = body.decode()
    assets = [*_references(page), *re.findall(r'url: "([^"]+)"', page)]
    assert len(assets) == 5

    # when
    answers = {url: _get(urljoin(live_server.url, url)) for url in assets}

    # then: every one from the app itself, non-empty
    assert {urlsplit(urljoin(live_server.url, url)).netloc for url in assets} == {
        urlsplit(live_server.url).netloc}
    assert {url: status for url, (status, _body) in answers.items()} == dict.fromkeys(assets, 200)
    assert [url for url, (_status, body) in answers.items() if not body] == []


def test_the_site_pages_reference_no_other_host(web_client, tester):
    # given: the base template every page extends
    page = web_client(tester).get("/home/").content.decode()

    # then
    assert [url for url in _references(page) if not url.startswith("/") or url.startswith("//")
            ] == []
    assert re.findall(r"https?://", page) == []


def test_the_schema_validates_without_warnings():
    # given
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--file", os.devnull],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)

    # then
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
