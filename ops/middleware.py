"""Gives each HTTP request a reference for its log lines, echoed in `X-Request-ID`, and writes
one access line per request."""

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from ops.logging import current_ref, new_ref, safe_ref

HEADER = "X-Request-ID"
# Probes every few seconds: logged only when they fail.
QUIET_PATHS = frozenset({"/healthz", "/metrics"})

access_logger = logging.getLogger("ops.access")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RequestReferenceMiddleware:
    """Honours a client's (or proxy's) safe `X-Request-ID`; otherwise makes one up.

    The reference is `request.ref`, the `ref` of every log record written while the request is
    handled, and the `X-Request-ID` of the response. The access line (logger `ops.access`)
    carries the method, the path without its query string (where keys travel), the status
    and the duration. Put it first in MIDDLEWARE.
    """

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
        ref, started = self._begin(request), time.monotonic()
        token = current_ref.set(ref)
        try:
            response = self.get_response(request)
            self._log(request, response, started)
        finally:
            current_ref.reset(token)
        return self._end(response, ref)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        ref, started = self._begin(request), time.monotonic()
        token = current_ref.set(ref)
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
            self._log(request, response, started)
        finally:
            current_ref.reset(token)
        return self._end(response, ref)

    def _begin(self, request: HttpRequest) -> str:
        ref = safe_ref(request.headers.get(HEADER)) or new_ref()
        request.ref = ref  # type: ignore[attr-defined]
        return ref

    def _end(self, response: HttpResponseBase, ref: str) -> HttpResponseBase:
        response[HEADER] = ref
        return response

    def _log(self, request: HttpRequest, response: HttpResponseBase, started: float) -> None:
        status = response.status_code
        if status < 400 and request.path in QUIET_PATHS:
            return
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        path = _CONTROL.sub("?", request.path)[:500]  # one line per request, whatever was sent
        access_logger.info(
            "%s %s %s %sms",
            request.method,
            path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
