"""Under `/api/`, an error Django or ninja answered outside the API's handlers (405, a 500 from
a middleware, a 413 from the server) still gets the API's JSON error body."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from api.errors import error_response, internal_error_response

PREFIX = "/api/"
CODES = {
    400: "invalid_request",
    401: "auth_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
}


class ApiErrorShapeMiddleware:
    """Rewrites non-JSON error responses of `/api/` paths; leaves every other path alone."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return reshape(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        return reshape(request, await get_response(request))


def reshape(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """The response, or the API's error body with the same status (and Allow header)."""
    if response.status_code < 400 or not request.path.startswith(PREFIX):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    status = response.status_code
    if status >= 500:
        reshaped = internal_error_response(getattr(request, "ref", None))
        reshaped.status_code = status
        return reshaped
    message = {405: f"Method {request.method} is not allowed here."}.get(
        status, getattr(response, "reason_phrase", "") or "Request refused."
    )
    headers = {name: response[name] for name in ("Allow", "Retry-After") if name in response}
    code = CODES.get(status, "invalid_request")
    return error_response(status=status, code=code, message=message, headers=headers)
