"""FallbackAgent over real agents: GeminiAgent on the fake Gemini server, then an
OpenAICompatibleAgent on the fake OpenAI server, each through its real SDK."""

import asyncio

import pytest

from ai_chat.agent.attempts import Outcome, attempts_collect
from ai_chat.agent.base import (
    AgentBlocked,
    AgentError,
    AgentInvalidRequest,
    AgentUnavailable,
    Completion,
    GenerationRequest,
    TextChunk,
)
from ai_chat.agent.breaker import CircuitBreaker, State
from ai_chat.agent.fallback import FallbackAgent, Link
from ops.metrics import REGISTRY
from tests.fakes import gemini_server as gemini_fake
from tests.fakes import openai_server as openai_fake
from tests.fakes.gemini_server import Reply as GeminiReply
from tests.fakes.openai_server import Reply as OpenAIReply

gemini_server = gemini_fake.gemini_server
openai_server = openai_fake.openai_server

REQUEST = GenerationRequest(kind="chat", instructions="Be brief.", prompt="Hello?")
GEMINI_DOWN = [GeminiReply.http_error(503)] * 3  # the first try and the agent's two retries


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def chain(gemini_server, openai_server, clock):
    """Gemini first, then the OpenAI-compatible `compat`; breakers open after 2 failures."""
    links = [
        Link(gemini_server.make_agent(), CircuitBreaker(threshold=2, cooldown=30, clock=clock)),
        Link(openai_server.make_agent(), CircuitBreaker(threshold=2, cooldown=30, clock=clock)),
    ]
    agent = FallbackAgent(links)
    yield agent
    await agent.aclose()


async def run(agent, request=REQUEST):
    """The events of one stream, its error, and the attempts it noted (in a task of its own,
    as the runner runs each generation)."""

    async def one():
        attempts = attempts_collect([])
        events = []
        try:
            async for event in agent.stream(request):
                events.append(event)
        except AgentError as exc:
            return events, exc, attempts
        return events, None, attempts

    return await asyncio.create_task(one())


def counted(provider, outcome):
    """The Prometheus count of attempts of `provider` with `outcome`."""
    labels = {"provider": provider, "outcome": outcome}
    return REGISTRY.get_sample_value("lectern_provider_attempts_total", labels) or 0.0


def outcomes(attempts):
    return [(a.provider, a.outcome, a.error_code) for a in attempts]


async def test_gemini_down_hands_over_to_the_next_provider(chain, gemini_server, openai_server):
    """Gemini unavailable before its first chunk (after its retries): the OpenAI-compatible
    provider answers, and the Completion names the model that answered."""
    gemini_server.push(*GEMINI_DOWN)
    openai_server.push(OpenAIReply(chunks=["Hi ", "there."]))
    before = counted("gemini", "unavailable"), counted("compat", "answered")
    events, error, attempts = await run(chain)
    assert (counted("gemini", "unavailable"), counted("compat", "answered")) == (
        before[0] + 1,
        before[1] + 1,
    )
    assert error is None
    assert events[:2] == [TextChunk("Hi "), TextChunk("there.")]
    assert isinstance(events[-1], Completion) and events[-1].model == "fake-openai-001"
    assert len(gemini_server.requests) == 3 and len(openai_server.requests) == 1
    assert outcomes(attempts) == [
        ("gemini", Outcome.UNAVAILABLE, "http_503"),
        ("compat", Outcome.ANSWERED, ""),
    ]
    gemini, compat = attempts
    assert gemini.model == "gemini-test" and gemini.first_chunk_ms is None
    assert "503" in gemini.error
    assert compat.model == "fake-openai-001"
    assert compat.first_chunk_ms is not None and compat.total_ms >= compat.first_chunk_ms


async def test_the_first_provider_answering_is_the_only_one_asked(
    chain, gemini_server, openai_server
):
    gemini_server.push(GeminiReply(chunks=["Fine."]))
    events, error, attempts = await run(chain)
    assert error is None and events[-1].text == "Fine."
    assert openai_server.requests == []
    assert outcomes(attempts) == [("gemini", Outcome.ANSWERED, "")]


async def test_a_failure_mid_stream_does_not_fall_over(chain, gemini_server, openai_server):
    """Chunks already reached the caller: the error goes to it, the next provider is not asked."""
    gemini_server.push(GeminiReply(chunks=["Half ", "an "], ending="drop"))
    events, error, attempts = await run(chain)
    assert events == [TextChunk("Half "), TextChunk("an ")]
    assert isinstance(error, AgentUnavailable) and error.partial_text == "Half an "
    assert openai_server.requests == []
    assert outcomes(attempts) == [("gemini", Outcome.FAILED, "unavailable")]
    assert attempts[0].first_chunk_ms is not None


async def test_an_invalid_request_does_not_fall_over(chain, gemini_server, openai_server):
    """A 400 would fail everywhere: raised as is, and the breaker does not count it."""
    gemini_server.push(GeminiReply.http_error(400, "bad schema"))
    _, error, attempts = await run(chain)
    assert isinstance(error, AgentInvalidRequest) and "bad schema" in str(error)
    assert openai_server.requests == []
    assert outcomes(attempts) == [("gemini", Outcome.FAILED, "http_400")]
    assert chain.links[0].breaker.state is State.CLOSED


async def test_a_wrong_key_falls_over(chain, gemini_server, openai_server):
    """401 is about the entry (its key), not the request: the next provider is asked."""
    gemini_server.push(GeminiReply.http_error(401))
    openai_server.push(OpenAIReply(chunks=["ok"]))
    events, error, attempts = await run(chain)
    assert error is None and events[-1].text == "ok"
    assert outcomes(attempts)[0] == ("gemini", Outcome.UNAVAILABLE, "http_401")


async def test_a_blocked_prompt_does_not_fall_over(chain, gemini_server, openai_server):
    """A safety refusal is an answer: asking another model to get round it would be wrong."""
    gemini_server.push(GeminiReply(block_reason="SAFETY"))
    _, error, _ = await run(chain)
    assert isinstance(error, AgentBlocked)
    assert openai_server.requests == []


async def test_every_provider_down_is_unavailable(chain, gemini_server, openai_server):
    """The chain exhausted: AgentUnavailable naming each provider's failure, with the shortest
    wait any of them asked for."""
    gemini_server.push(*GEMINI_DOWN)
    openai_server.push(OpenAIReply.http_error(429, headers={"retry-after": "4"}))
    _, error, attempts = await run(chain)
    assert isinstance(error, AgentUnavailable)
    assert "No AI provider could answer" in str(error)
    assert "503" in str(error) and "429" in str(error)
    assert error.retry_after == 4.0
    assert outcomes(attempts) == [
        ("gemini", Outcome.UNAVAILABLE, "http_503"),
        ("compat", Outcome.UNAVAILABLE, "http_429"),
    ]


async def test_the_breaker_skips_a_failing_provider_then_tries_it_again(
    chain, gemini_server, openai_server, clock
):
    """Two failures in a row open Gemini's breaker: the next request skips it (no request
    reaches it) and goes straight to the next provider. After the cool-down one trial is sent;
    its success closes the breaker."""
    for _ in range(2):
        gemini_server.push(*GEMINI_DOWN)
        openai_server.push(OpenAIReply(chunks=["backup"]))
        _, error, _ = await run(chain)
        assert error is None
    assert chain.links[0].breaker.state is State.OPEN
    asked = len(gemini_server.requests)

    openai_server.push(OpenAIReply(chunks=["backup"]))
    events, error, attempts = await run(chain)
    assert error is None and events[-1].text == "backup"
    assert len(gemini_server.requests) == asked
    assert outcomes(attempts) == [
        ("gemini", Outcome.SKIPPED, "circuit_open"),
        ("compat", Outcome.ANSWERED, ""),
    ]
    assert attempts[0].first_chunk_ms is None

    clock.now += 31  # the cool-down is over: half-open
    gemini_server.push(GeminiReply(chunks=["back again"]))
    events, error, attempts = await run(chain)
    assert error is None and events[-1].text == "back again"
    assert outcomes(attempts) == [("gemini", Outcome.ANSWERED, "")]
    assert chain.links[0].breaker.state is State.CLOSED


async def test_every_breaker_open_fails_fast_with_the_wait(chain, gemini_server, clock):
    """Nothing is asked while every breaker is open; the error says when to come back."""
    for link in chain.links:
        link.breaker.failed()
        link.breaker.failed()
    clock.now += 10
    _, error, attempts = await run(chain)
    assert isinstance(error, AgentUnavailable) and error.retry_after == 20.0
    assert gemini_server.requests == []
    assert [a.outcome for a in attempts] == [Outcome.SKIPPED, Outcome.SKIPPED]


async def test_a_stream_closed_by_the_caller_is_noted_cancelled(
    chain, gemini_server, openai_server
):
    """The caller stops reading after the first chunk (a cancel): the attempt is `cancelled`,
    the provider's HTTP stream is closed, and nothing is counted against it."""
    gemini_server.push(GeminiReply(chunks=["a", "b", "c"], pause=0.5))

    async def one():
        attempts = attempts_collect([])
        stream = chain.stream(REQUEST)
        assert await anext(stream) == TextChunk("a")
        await stream.aclose()
        return attempts

    attempts = await asyncio.create_task(one())
    assert outcomes(attempts) == [("gemini", Outcome.CANCELLED, "")]
    assert gemini_server.wait_for_disconnect(5.0)
    assert chain.links[0].breaker.state is State.CLOSED


async def test_concurrent_generations_collect_their_own_attempts(
    chain, gemini_server, openai_server
):
    """Each task collects only the attempts of its own streams."""
    gemini_server.push(GeminiReply(chunks=["one"], pause=0.05), GeminiReply(chunks=["two"]))
    (_, e1, first), (_, e2, second) = await asyncio.gather(run(chain), run(chain))
    assert e1 is None and e2 is None
    assert len(first) == 1 and len(second) == 1


class BrokenAgent:
    """A provider with a bug: it raises something that is not an AgentError."""

    name = "broken"
    model = "broken-1"

    async def stream(self, request):
        raise RuntimeError("bug")
        yield  # an async generator, like every provider

    async def aclose(self):
        return None


async def test_a_bug_in_a_provider_is_neither_handed_over_nor_counted(openai_server, clock):
    """A provider's own bug surfaces as it is (the runner reports an internal error); it is
    noted `failed` with code `internal`, and the breaker does not count it as an outage."""
    breaker = CircuitBreaker(threshold=1, cooldown=30, clock=clock)
    backup = openai_server.make_agent()
    agent = FallbackAgent(
        [Link(BrokenAgent(), breaker), Link(backup, CircuitBreaker(threshold=1, cooldown=30))]
    )
    try:
        with pytest.raises(RuntimeError):
            await run(agent)
        attempts = attempts_collect([])
        with pytest.raises(RuntimeError):
            async for _ in agent.stream(REQUEST):
                pass
    finally:
        await agent.aclose()
    assert outcomes(attempts) == [("broken", Outcome.FAILED, "internal")]
    assert breaker.state is State.CLOSED and openai_server.requests == []
