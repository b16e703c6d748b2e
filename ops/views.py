"""`/healthz` (readiness, for load balancers) and `/metrics` (Prometheus exposition)."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client.exposition import choose_encoder

from ops.access import metrics_allowed
from ops.health import run_checks
from ops.metrics import collecting_registry


@require_safe
async def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, 503 otherwise; the body says which failed."""
    ok, checks = await run_checks()
    response = JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )
    response["Cache-Control"] = "no-store"
    return response


@require_safe
async def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format (OpenMetrics when asked for), to allowed clients only."""
    if not await metrics_allowed(request):
        return HttpResponseForbidden("Forbidden.\n", content_type="text/plain")
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    # Off the loop: in multiprocess mode this reads every process's files.
    body = await sync_to_async(encoder, thread_sensitive=False)(collecting_registry())
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
