from accounts.permissions import request_program


def program(request):
    """The program's state for the banner every page shows."""
    return {"program": request_program(request)}
