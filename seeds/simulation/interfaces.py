"""How a simulated tester reaches the platform: its services, or its REST API.

Both ways answer the same questions with the same refusals, so a tester agent does not care
which one it holds. Most testers use the services directly, as the web pages do; a tester
who scripts against the API (and the outsiders who later use that tester's leaked token) go
through ``django.test.Client``: the full request path, middleware, authentication (and so the
token watch), permissions and views.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from core.errors import DomainError
from seeds.simulation.instrument import Stats
from seeds.simulation.media import FULL_DURATION_S, FULL_RESOLUTION, TinyClips


class Refused(Exception):
    """The platform said no; ``code`` is the error's stable code (API.md)."""

    def __init__(self, code: str, status: int = 0) -> None:
        super().__init__(code)
        self.code, self.status = code, status


def request_host() -> str:
    """A host name the settings accept, for requests made through the test client."""
    for host in settings.ALLOWED_HOSTS:
        if host and "*" not in host and not host.startswith("."):
            return host.strip("[]") if host.startswith("[") else host
    return "testserver"


class TesterServices:
    """The tester acting through the services, as the web pages do on their behalf."""

    def __init__(self, user: User, stats: Stats, clips: TinyClips | None) -> None:
        self.user, self.stats, self.clips = user, stats, clips

    def _call(self, name: str, function, /, **kwargs: Any) -> Any:
        try:
            return self.stats.call(name, function, **kwargs)
        except DomainError as error:
            raise Refused(error.code, error.status) from None

    def refusal(self) -> str | None:
        """Why the program shuts this tester out now (the check every request makes)."""
        from accounts.permissions import program_refuses
        from accounts.selectors import program_get

        refusal = self.stats.call("accounts.program_refuses",
                                  lambda: program_refuses(self.user, program_get()))
        return refusal.code if refusal is not None else None

    def make_clip(self, prompt: str, seed: int) -> UUID:
        """A new draft clip from ``prompt`` and ``seed``."""
        from submissions.services.lifecycle import submission_generate, submission_upload

        if self.clips is None:
            submission = self._call("submissions.submission_generate", submission_generate,
                                    actor=self.user, prompt=prompt, seed=seed,
                                    duration_s=FULL_DURATION_S, resolution=FULL_RESOLUTION)
        else:
            upload = self.clips.upload_file(prompt, seed)
            submission = self._call("submissions.submission_upload", submission_upload,
                                    actor=self.user, upload=upload, prompt=prompt,
                                    submit=False)
        return submission.pk

    def submit(self, clip: UUID) -> None:
        from submissions.services.lifecycle import submission_submit

        self._call("submissions.submission_submit", submission_submit, actor=self.user,
                   submission=_clip(clip))

    def withdraw(self, clip: UUID) -> None:
        from submissions.services.lifecycle import submission_withdraw

        self._call("submissions.submission_withdraw", submission_withdraw, actor=self.user,
                   submission=_clip(clip))

    def appeal(self, clip: UUID, message: str) -> None:
        from review.services.decisions import appeal_create

        self._call("review.appeal_create", appeal_create, actor=self.user,
                   submission=_clip(clip), message=message)

    def share(self, clip: UUID) -> None:
        from submissions.services.sharing import share_create

        self._call("submissions.share_create", share_create, actor=self.user,
                   submission=_clip(clip))

    def statuses(self, clips: list[UUID]) -> dict[UUID, str]:
        """The current status of each of ``clips`` (the tester's dashboard)."""
        from submissions.models import Submission

        def read() -> dict[UUID, str]:
            return dict(Submission.objects.filter(owner=self.user, pk__in=clips)
                        .values_list("pk", "status"))

        return self.stats.call("submissions.statuses", read) if clips else {}


def _clip(clip: UUID):
    """A reference to a clip by id: the services lock and read the row themselves."""
    from submissions.models import Submission

    return Submission(id=clip)  # by field name: ``pk=`` would draw a default id first


class ApiClient:
    """Requests with an API token from one client address, through the whole Django stack."""

    def __init__(self, stats: Stats, token: str, address: str) -> None:
        self.stats, self.token, self.address = stats, token, address
        self.client = Client(HTTP_HOST=request_host())

    def request(self, method: str, path: str, *, json_body: dict | None = None,
                data: dict | None = None) -> tuple[int, Any]:
        headers = {"HTTP_AUTHORIZATION": f"Token {self.token}", "REMOTE_ADDR": self.address,
                   "HTTP_USER_AGENT": "early-access-script/1.0"}
        call = getattr(self.client, method)
        if json_body is not None:
            response = self.stats.call(f"api {method.upper()} {_route(path)}", call, path,
                                       data=json.dumps(json_body),
                                       content_type="application/json", **headers)
        elif data is not None:
            response = self.stats.call(f"api {method.upper()} {_route(path)}", call, path,
                                       data=data, **headers)
        else:
            response = self.stats.call(f"api {method.upper()} {_route(path)}", call, path,
                                       **headers)
        body = b"".join(response) if response.streaming else response.content
        response.close()
        if response.get("Content-Type", "").startswith("application/json") and body:
            return response.status_code, json.loads(body)
        return response.status_code, body


def _route(path: str) -> str:
    """The path with ids replaced, so the timing of a route adds up across clips."""
    parts = [("{id}" if len(part) == 36 and part.count("-") == 4 else part)
             for part in path.split("/")]
    return "/".join(parts)


class TesterApi:
    """The tester acting through the REST API with their own token, like a script would."""

    def __init__(self, api: ApiClient, clips: TinyClips | None) -> None:
        self.api, self.clips = api, clips

    def _expect(self, answer: tuple[int, Any], *statuses: int) -> Any:
        status, body = answer
        if status not in statuses:
            code = body.get("code", "") if isinstance(body, dict) else ""
            raise Refused(code or f"http.{status}", status)
        return body

    def refusal(self) -> str | None:
        status, body = self.api.request("get", "/api/v1/program/")
        if status != 200:
            return body.get("code", f"http.{status}") if isinstance(body, dict) else "denied"
        return "program.suspended" if body["status"] == "suspended" else None

    def make_clip(self, prompt: str, seed: int) -> UUID:
        if self.clips is None:
            body = self._expect(self.api.request("post", "/api/v1/generations/", json_body={
                "prompt": prompt, "seed": seed, "duration_s": FULL_DURATION_S,
                "resolution": FULL_RESOLUTION}), 202)
        else:
            upload = SimpleUploadedFile("clip.mp4", self.clips.content(prompt, seed),
                                        content_type="video/mp4")
            body = self._expect(self.api.request("post", "/api/v1/submissions/", data={
                "file": upload, "prompt": prompt, "submit": "false"}), 201)
        return UUID(body["id"])

    def submit(self, clip: UUID) -> None:
        self._expect(self.api.request("post", f"/api/v1/submissions/{clip}/submit/"), 200)

    def withdraw(self, clip: UUID) -> None:
        self._expect(self.api.request("post", f"/api/v1/submissions/{clip}/withdraw/"), 200)

    def appeal(self, clip: UUID, message: str) -> None:
        self._expect(self.api.request("post", f"/api/v1/submissions/{clip}/appeal/",
                                      json_body={"message": message}), 200)

    def share(self, clip: UUID) -> None:
        self._expect(self.api.request("post", f"/api/v1/submissions/{clip}/share/"), 201)

    def statuses(self, clips: list[UUID]) -> dict[UUID, str]:
        wanted, found = set(clips), {}
        path = "/api/v1/submissions/"
        while path and len(found) < len(wanted):
            body = self._expect(self.api.request("get", path), 200)
            for item in body["results"]:
                if UUID(item["id"]) in wanted:
                    found[UUID(item["id"])] = item["status"]
            path = body["next"]
        return found
