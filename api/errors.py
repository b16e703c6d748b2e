"""The API's errors: one class per wire code, and the one mapping of every exception to
`{"error": {"code", "message", "details"}}` (API.md, "Errors")."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from ops.logging import current_ref

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer the client can act on: status, code, a sentence, and optional details."""

    status = 400
    code = "invalid_request"
    message = "The request is not valid."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details or []
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidRequest(ApiError):
    """The body or query fails validation; `details` name each field."""


class AuthRequired(ApiError):
    """Neither a bearer token nor a session cookie came with the request."""

    status, code = 401, "auth_required"
    message = "Sign in: send `Authorization: Bearer <Firebase ID token>` or a session cookie."


class TokenRefused(ApiError):
    """A bearer token firebase-admin refused: invalid, expired or revoked (401), or its
    account disabled (403)."""

    status, code = 401, "invalid_token"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = 403 if code == "user_disabled" else 401


class Forbidden(ApiError):
    """Visible to the caller, but not theirs to change."""

    status, code = 403, "forbidden"
    message = "You may not do this."


class NotFound(ApiError):
    """Missing, or not the caller's to see: existence is never leaked."""

    status, code = 404, "not_found"
    message = "Not found."


class Conflict(ApiError):
    """The state does not allow it now."""

    status, code = 409, "conflict"
    message = "The current state does not allow this."


class TooLarge(ApiError):
    status, code = 413, "too_large"
    message = "The request body is too large."


class RateLimited(ApiError):
    """Too many requests: `Retry-After` says when to try again."""

    status, code = 429, "rate_limited"
    message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(int(retry_after), 1))})


class QuotaExceeded(RateLimited):
    """The daily token budget is spent: `Retry-After` is the time to the next UTC day."""

    code = "quota_exceeded"
    message = "Your daily generation budget is used up; it renews at midnight UTC."


def error_response(
    *,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """The one error body of the API."""
    body = {"error": {"code": code, "message": message, "details": details or []}}
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _from_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(
        status=exc.status,
        code=exc.code,
        message=exc.message,
        details=exc.details,
        headers=exc.headers,
    )


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ninja's (pydantic's) errors as `{field, message}`, the field without its source."""
    details = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        source = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else None
        parts = loc[1:] if source else loc
        if source == "body" and parts and parts[0] == "payload":
            parts = parts[1:]  # ninja names the body argument; clients never see it
        details.append(
            {
                "field": ".".join(parts) or source or "body",
                "in": source or "body",
                "message": str(error.get("msg", "is not valid")),
            }
        )
    return details


def _from_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        status=400,
        code="invalid_request",
        message="The request is not valid; see details.",
        details=validation_details(list(exc.errors)),
    )


def _from_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own errors: no credentials, a failed CSRF check, throttling, and the like."""
    if isinstance(exc, AuthenticationError):
        return _from_api_error(request, AuthRequired())
    if isinstance(exc, Throttled):
        return _from_api_error(request, RateLimited(retry_after=int(exc.wait or 1)))
    if exc.status_code == 403:
        message = "CSRF check failed: send the X-CSRFToken header with the session cookie."
        if "csrf" not in str(exc).lower():
            message = str(exc)
        return error_response(status=403, code="forbidden", message=message)
    if exc.status_code == 404:
        return _from_api_error(request, NotFound())
    code = "invalid_request" if exc.status_code < 500 else "internal_error"
    return error_response(status=exc.status_code, code=code, message=str(exc))


def _from_http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _from_api_error(request, NotFound())


def _from_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Anything unexpected: logged with its traceback under the request's reference, which
    the answer names; the client never sees the traceback."""
    if isinstance(exc, RequestDataTooBig):
        return _from_api_error(request, TooLarge())
    ref = getattr(request, "ref", None) or current_ref.get()
    logger.exception("Unhandled error in %s %s (ref %s)", request.method, request.path, ref)
    return internal_error_response(ref)


def internal_error_response(ref: str | None) -> HttpResponse:
    return error_response(
        status=500,
        code="internal_error",
        message=f"Something went wrong on our side; quote reference {ref} if you report it.",
        details=[{"reference": ref}],
    )


def install_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default answers (422 `{"detail"}`, HTML tracebacks) with ours."""
    handlers: dict[type[Exception], Any] = {
        ApiError: _from_api_error,
        ValidationError: _from_validation_error,
        HttpError: _from_http_error,
        Http404: _from_http404,
        Exception: _from_exception,
    }
    for exception, handler in handlers.items():
        api.add_exception_handler(exception, handler)
