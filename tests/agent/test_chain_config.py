"""The chain as a person configures it: environment, system checks, `check_ai`, `/healthz`."""

from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError

from ai_chat.agent import build_agent
from ai_chat.agent.fallback import FallbackAgent
from ai_chat.agent.offline import OfflineAgent
from config.env import ImproperlyConfiguredEnv, env_provider_entries
from tests.fakes import gemini_server as gemini_fake
from tests.fakes import openai_server as openai_fake
from tests.fakes.gemini_server import Reply as GeminiReply
from tests.fakes.openai_server import Reply as OpenAIReply

gemini_server = gemini_fake.gemini_server
openai_server = openai_fake.openai_server

# The system checks and /healthz look at the database too.
pytestmark = pytest.mark.django_db

GROQ = {
    "base_url": "http://127.0.0.1:9/v1",
    "api_key": "gsk-secret-never-shown",
    "model": "llama-test",
    "structured": "json_schema",
}


@pytest.fixture
def two_providers(settings):
    settings.AI_PROVIDERS = ["gemini", "groq"]
    settings.AI_PROVIDER_ENTRIES = {"groq": dict(GROQ)}
    settings.GEMINI_API_KEY = "AIzaSyTestKeyThatMustNeverBeShown000000"
    return settings


def error_ids():
    return [message.id for message in run_checks()]


def test_entries_are_read_from_the_environment(monkeypatch):
    """AI_PROVIDER_<NAME>_* for each name that is not built in; gemini reads GEMINI_*."""
    monkeypatch.setenv("AI_PROVIDER_GROQ_BASE_URL", "https://api.groq.com/openai/v1")
    monkeypatch.setenv("AI_PROVIDER_GROQ_API_KEY", "gsk-1")
    monkeypatch.setenv("AI_PROVIDER_GROQ_MODEL", "llama-3.3-70b-versatile")
    monkeypatch.setenv("AI_PROVIDER_GROQ_STRUCTURED", "json_object")
    entries = env_provider_entries(["gemini", "groq", "qwen"], builtin=("gemini", "offline"))
    assert entries == {
        "groq": {
            "base_url": "https://api.groq.com/openai/v1",
            "api_key": "gsk-1",
            "model": "llama-3.3-70b-versatile",
            "structured": "json_object",
        },
        "qwen": {"base_url": "", "api_key": "", "model": "", "structured": ""},
    }


def test_a_name_that_cannot_be_a_variable_is_refused():
    with pytest.raises(ImproperlyConfiguredEnv, match="my-gateway"):
        env_provider_entries(["my-gateway"], builtin=("gemini", "offline"))


def test_without_a_chain_ai_provider_is_a_chain_of_one(settings):
    """AI_PROVIDER keeps working: offline alone is the bare offline provider; gemini is a
    chain of one (so its attempts are recorded and its breaker applies)."""
    settings.AI_PROVIDERS = []
    settings.AI_PROVIDER = "offline"
    assert isinstance(build_agent(), OfflineAgent)
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    agent = build_agent()
    assert isinstance(agent, FallbackAgent)
    assert [link.agent.name for link in agent.links] == ["gemini"]


def test_the_chain_is_built_in_order(two_providers):
    agent = build_agent()
    assert isinstance(agent, FallbackAgent)
    assert [(link.agent.name, link.agent.model) for link in agent.links] == [
        ("gemini", "gemini-2.5-flash"),
        ("groq", "llama-test"),
    ]
    assert agent.name == "gemini,groq"
    assert "lectern.E006" not in error_ids()


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("base_url", "BASE_URL"), ("api_key", "API_KEY"), ("model", "MODEL")],
)
def test_an_incomplete_entry_is_a_system_error_naming_the_variable(
    two_providers, missing, variable
):
    two_providers.AI_PROVIDER_ENTRIES["groq"][missing] = ""
    messages = [m for m in run_checks() if m.id == "lectern.E006"]
    assert len(messages) == 1 and f"AI_PROVIDER_GROQ_{variable}" in messages[0].msg
    with pytest.raises(ValueError, match=f"AI_PROVIDER_GROQ_{variable}"):
        build_agent()


def test_an_unknown_structured_capability_is_an_error(two_providers):
    two_providers.AI_PROVIDER_ENTRIES["groq"]["structured"] = "xml"
    messages = [m.msg for m in run_checks() if m.id == "lectern.E006"]
    assert any("STRUCTURED" in m and "json_object" in m for m in messages)


@pytest.mark.parametrize("name", ["GEMINI_READER", "AI_COMPAT_READER"])
def test_an_unknown_reader_is_an_error(two_providers, name):
    setattr(two_providers, name, "fast")
    messages = [m.msg for m in run_checks() if m.id == "lectern.E006"]
    assert any(f"{name} must be lean or sdk, not 'fast'" in m for m in messages)
    setattr(two_providers, name, "sdk")
    assert not [m for m in run_checks() if m.id == "lectern.E006"]


def test_offline_is_refused_in_a_chain(settings):
    """Placeholders must never stand in silently for a model that is down."""
    settings.AI_PROVIDERS = ["gemini", "offline"]
    settings.GEMINI_API_KEY = "k"
    messages = [m.msg for m in run_checks() if m.id == "lectern.E006"]
    assert any("offline" in m for m in messages)


def test_gemini_in_a_chain_without_its_key_is_an_error(two_providers):
    two_providers.GEMINI_API_KEY = ""
    messages = [m.msg for m in run_checks() if m.id == "lectern.E006"]
    assert messages == ["AI_PROVIDERS: gemini: GEMINI_API_KEY is not set."]


def test_healthz_reports_each_provider_of_the_chain_without_keys(client, two_providers):
    response = client.get("/healthz")
    provider = response.json()["checks"]["provider"]
    assert response.status_code == 200 and provider["ok"] is True
    assert provider["name"] == "gemini,groq"
    assert provider["chain"] == [
        {"name": "gemini", "configured": True},
        {"name": "groq", "configured": True},
    ]
    assert "gsk-secret" not in response.content.decode()


def test_healthz_fails_when_an_entry_is_incomplete(client, two_providers):
    two_providers.AI_PROVIDER_ENTRIES["groq"]["api_key"] = ""
    response = client.get("/healthz")
    provider = response.json()["checks"]["provider"]
    assert response.status_code == 503 and provider["ok"] is False
    assert provider["chain"][1] == {"name": "groq", "configured": False}


@pytest.fixture
def live_chain(two_providers, gemini_server, openai_server):
    two_providers.GEMINI_BASE_URL = gemini_server.url
    two_providers.GEMINI_MODEL = "gemini-test"
    two_providers.GEMINI_MAX_RETRIES = 0
    two_providers.AI_COMPAT_MAX_RETRIES = 0
    two_providers.AI_PROVIDER_ENTRIES["groq"]["base_url"] = openai_server.base_url
    return gemini_server, openai_server


def test_check_ai_asks_each_provider_of_the_chain(live_chain):
    """One request to each provider, each reported with its model and base URL, never its key."""
    gemini, groq = live_chain
    gemini.push(GeminiReply(chunks=["ready"]))
    groq.push(OpenAIReply(chunks=["ready"]))
    out = StringIO()
    call_command("check_ai", stdout=out)
    text = out.getvalue()
    assert "chain:    gemini -> groq" in text
    assert "provider: gemini" in text and "provider: groq" in text
    assert f"base URL: {groq.base_url}" in text and "answered: fake-openai-001" in text
    assert "structured output: json_schema" in text
    assert text.rstrip().endswith("ok")
    assert len(gemini.requests) == 1 and len(groq.requests) == 1
    assert "gsk-secret" not in text and "AIzaSy" not in text


def test_check_ai_fails_naming_the_provider_that_did_not_answer(live_chain):
    """Gemini answers, groq does not: every provider is still asked, and the command fails
    naming groq."""
    gemini, groq = live_chain
    gemini.push(GeminiReply(chunks=["ready"]))
    groq.push(OpenAIReply.http_error(503))
    out = StringIO()
    with pytest.raises(CommandError, match="groq did not answer"):
        call_command("check_ai", stdout=out)
    assert "provider: gemini" in out.getvalue() and "answered: fake-gemini-001" in out.getvalue()
    assert "503" in out.getvalue()
