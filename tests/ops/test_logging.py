"""JSON log lines, secret redaction, and the request reference (X-Request-ID)."""

import base64
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops.logging import (
    JsonFormatter,
    RedactSecretsFilter,
    RequestRefFilter,
    bind_ref,
    current_ref,
)

ROOT = Path(__file__).resolve().parents[2]


def make_record(msg: str, *args, level=logging.INFO, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.getLogger("lectern.test").makeRecord(
        "lectern.test", level, __file__, 1, msg, args, exc_info, extra=extra or None
    )
    return record


def through_handler(record: logging.LogRecord, formatter: logging.Formatter | None = None) -> str:
    """What the configured console handler would write for `record`."""
    for log_filter in (RequestRefFilter(), RedactSecretsFilter()):
        log_filter.filter(record)
    return (formatter or JsonFormatter()).format(record)


def jwt() -> str:
    def segment(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return ".".join(
        [
            segment({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
            segment({"sub": "firebase-uid-123", "aud": "lectern", "exp": 1900000000}),
            "c2lnbmF0dXJlLWJ5dGVzLXRoYXQtbG9vay1yYW5kb20tZW5vdWdo",
        ]
    )


# --- JSON -------------------------------------------------------------------------------------


def test_the_json_formatter_writes_one_object_per_line_with_the_fields():
    record = make_record(
        "generation %s finished",
        "m-1",
        level=logging.WARNING,
        conversation_id="c-42",
        request_id="r-7",
        ref="abc123",
    )

    line = through_handler(record)

    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "lectern.test"
    assert data["message"] == "generation m-1 finished"
    assert data["conversation_id"] == "c-42"
    assert data["request_id"] == "r-7"
    assert data["ref"] == "abc123"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["timestamp"])


def test_the_json_formatter_leaves_out_absent_extras_and_keeps_tracebacks():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = make_record("it failed", level=logging.ERROR, exc_info=sys.exc_info())

    data = json.loads(through_handler(record))

    assert "conversation_id" not in data and "ref" not in data
    assert "ValueError: bad value" in data["exception"]


def test_the_json_formatter_never_fails_on_a_strange_extra():
    record = make_record("x", conversation_id=object())

    assert json.loads(through_handler(record))["conversation_id"].startswith("<object")


# --- redaction --------------------------------------------------------------------------------


def test_redaction_removes_a_jwt():
    token = jwt()

    line = through_handler(make_record("auth frame with %s rejected", token))

    assert token not in line
    assert token.split(".")[1] not in line
    assert "[redacted]" in line


def test_redaction_removes_the_configured_api_key_and_secret_key(settings):
    settings.GEMINI_API_KEY = "gm-live-0123456789abcdef"
    settings.SECRET_KEY = "production-secret-key-value-42"

    line = through_handler(
        make_record("client built with %s and %s", "gm-live-0123456789abcdef", settings.SECRET_KEY)
    )

    assert "gm-live-0123456789abcdef" not in line
    assert "production-secret-key-value-42" not in line


def test_redaction_removes_a_password_in_a_url():
    line = through_handler(
        make_record(
            "cannot reach postgres://lectern:pg-pass-99@db:5432/lectern and redis://:r3d1s-pass@redis:6379/0"
        )
    )

    assert "pg-pass-99" not in line and "r3d1s-pass" not in line
    assert "postgres://lectern:[redacted]@db:5432/lectern" in line


def test_redaction_removes_keys_in_query_strings_and_bearer_tokens():
    line = through_handler(
        make_record(
            "GET https://generativelanguage.googleapis.com/v1beta/models"
            "?key=AIzaSyA-abcdefghijklmnopqrstuvwxyz012345 "
            "Authorization: Bearer ya29.a0AfH6SMBxyz-token-value"
        )
    )

    assert "AIzaSyA" not in line
    assert "ya29" not in line


def test_redaction_covers_arguments_tracebacks_and_extras():
    token = jwt()
    try:
        raise RuntimeError(f"verify failed for {token}")
    except RuntimeError:
        record = make_record(
            "failed: %r", {"token": token}, exc_info=sys.exc_info(), conversation_id=token
        )

    line = through_handler(record)

    assert token not in line
    assert json.loads(line)["exception"].endswith("RuntimeError: verify failed for [redacted]")


def test_redaction_leaves_ordinary_text_alone():
    text = (
        "generation 0f8fad5b-d9cb-469f-a165-70867728950e of ai_chat.services.generation "
        "failed on lectern-db.c9akciq32.eu-central-1.rds.amazonaws.com: code=invalid_token "
        "max_tokens=8192"
    )

    assert json.loads(through_handler(make_record(text)))["message"] == text


@pytest.mark.parametrize(
    "name",
    [
        "autobahn.exception.PayloadExceededError",
        "websockets.exceptions.ConnectionClosedError",
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "psycopg_pool.PoolTimeout.occurred",
    ],
)
def test_redaction_keeps_dotted_names_of_modules_and_exceptions(name):
    """Only tokens are redacted: a dotted exception name in a message or traceback stays."""
    try:
        raise RuntimeError(f"closed: {name}")
    except RuntimeError:
        record = make_record("relay ended with %s", name, exc_info=sys.exc_info())
    line = json.loads(through_handler(record))

    assert line["message"] == f"relay ended with {name}"
    assert line["exception"].endswith(f"RuntimeError: closed: {name}")


def test_redaction_removes_an_unsigned_jwt_with_an_empty_signature():
    token = jwt().rsplit(".", 1)[0] + "."
    line = through_handler(make_record("token %s", token))
    assert token.split(".")[1] not in line and "[redacted]" in line


def test_a_record_whose_arguments_do_not_fit_is_kept():
    line = through_handler(make_record("two %s %s", "only-one"))

    assert "two %s %s" in json.loads(line)["message"]


# --- the request reference --------------------------------------------------------------------


def test_records_outside_a_request_get_a_dash():
    record = make_record("background work")
    RequestRefFilter().filter(record)

    assert record.ref == "-"


def test_a_bound_reference_reaches_every_record():
    token = current_ref.set(None)
    try:
        ref = bind_ref("conn-1234")
        record = make_record("frame handled")
        RequestRefFilter().filter(record)
    finally:
        current_ref.reset(token)

    assert ref == "conn-1234"
    assert record.ref == "conn-1234"


@pytest.fixture
def with_reference_middleware(settings):
    assert settings.MIDDLEWARE[0] == "ops.middleware.RequestReferenceMiddleware"
    settings.AI_PROVIDER = "offline"
    settings.REDIS_URL = ""


@pytest.fixture
def seen_refs(monkeypatch):
    """The reference current while /healthz runs its checks."""
    from ops import health

    seen: list[str | None] = []
    provider_check = health.checks()["provider"]

    async def spy(timeout):
        seen.append(current_ref.get())
        return await provider_check(timeout)

    monkeypatch.setitem(health._registered, "provider", spy)
    return seen


@pytest.mark.django_db
@pytest.mark.usefixtures("with_reference_middleware")
def test_a_safe_x_request_id_is_honoured_and_returned(client, seen_refs):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")

    assert response["X-Request-ID"] == "lb-7f3a.42"
    assert seen_refs == ["lb-7f3a.42"]
    assert current_ref.get() is None


@pytest.mark.django_db
@pytest.mark.usefixtures("with_reference_middleware")
@pytest.mark.parametrize("header", ["two words", "x" * 65, "a\r\nSet-Cookie: y", "<script>"])
def test_an_unsafe_x_request_id_is_replaced(client, header):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=header)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
@pytest.mark.usefixtures("with_reference_middleware")
def test_a_request_without_x_request_id_gets_one(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.django_db
@pytest.mark.usefixtures("with_reference_middleware")
async def test_the_reference_works_under_asgi(async_client, seen_refs):
    response = await async_client.get("/healthz", headers={"X-Request-ID": "edge-1"})

    assert response["X-Request-ID"] == "edge-1"
    assert seen_refs == ["edge-1"]


# --- the LOGGING setting, in a fresh process ----------------------------------------------------

SCRIPT = """
import logging, django
django.setup()
logging.getLogger("django.request").warning("token %s", TOKEN)
logging.getLogger("ai_chat").error("secret %s", "process-secret-key-0123456789")
"""


def run_logging(**env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "DEBUG"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "process-secret-key-0123456789",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", f"TOKEN = {jwt()!r}\n{SCRIPT}"],
        env=full_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_log_format_json_writes_redacted_json_lines_once_each():
    result = run_logging(LOG_FORMAT="json", DEBUG="true")

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 0, result.stderr
    assert len(lines) == 2, lines  # Django's own console handler no longer repeats them
    records = [json.loads(line) for line in lines]
    assert [r["logger"] for r in records] == ["django.request", "ai_chat"]
    assert "process-secret-key" not in result.stderr and jwt() not in result.stderr


def test_log_format_defaults_to_json_with_debug_off_and_plain_with_it_on():
    off = run_logging(DEBUG="false")
    on = run_logging(DEBUG="true")

    assert json.loads(off.stderr.splitlines()[0])["level"] == "WARNING"
    assert " WARNING django.request [-] token [redacted]" in on.stderr


def test_an_unknown_log_format_is_refused():
    result = run_logging(LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr


@pytest.mark.django_db
@pytest.mark.usefixtures("with_reference_middleware")
def test_each_request_writes_one_access_line_without_its_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="ops.access")
    caplog.handler.addFilter(RequestRefFilter())  # as the configured handler has

    client.get("/no-such-page/?key=AIzaSyA-should-not-be-logged", HTTP_X_REQUEST_ID="req-1")

    (record,) = [r for r in caplog.records if r.name == "ops.access"]
    assert record.getMessage().startswith("GET /no-such-page/ 404 ")
    assert (record.method, record.path, record.status) == ("GET", "/no-such-page/", 404)
    assert record.ref == "req-1"
    assert "AIzaSyA" not in record.getMessage()


@pytest.mark.django_db
@pytest.mark.usefixtures("with_reference_middleware")
def test_passing_probes_are_not_logged_but_failing_ones_are(client, caplog, settings):
    caplog.set_level(logging.INFO, logger="ops.access")

    client.get("/healthz")
    settings.AI_PROVIDER = "gemini"  # no key: the provider check fails
    settings.GEMINI_API_KEY = ""
    client.get("/healthz")

    lines = [r.getMessage() for r in caplog.records if r.name == "ops.access"]
    assert len(lines) == 1 and lines[0].startswith("GET /healthz 503 ")
