"""Plain Django views of the API: what ninja does not route."""

from django.http import HttpRequest, HttpResponse

from api.errors import error_response


def unknown_path(request: HttpRequest) -> HttpResponse:
    """Any path under `/api/` that is no route: the API's 404, never Django's HTML page."""
    return error_response(status=404, code="not_found", message="No such API path.")
