"""The program switch for the web pages (the API enforces it in ``ProgramAccess``)."""

from django.shortcuts import render
from django.urls import reverse

from accounts.permissions import program_refuses, request_program


class ProgramAccessMiddleware:
    """Shows a suspended tester why they are shut out, on every page but signing out.

    API paths are left to DRF, which also sees token-authenticated requests.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.user.is_authenticated
            and not request.path.startswith(("/api/", "/static/"))
            and request.path != reverse("accounts:sign_out")
        ):
            refusal = program_refuses(request.user, request_program(request))
            if refusal is not None:
                return render(request, "accounts/suspended.html",
                              {"message": refusal.message}, status=refusal.status)
        return self.get_response(request)
