"""Google Search grounding: a Gemini agent that researches with the `google_search` tool.

`GEMINI_GROUNDING=true` has a lesson researched before (or while) it is written. The agent here
is the GeminiAgent with the search tool in its requests (`GenerationRequest.search`, sent by
both readers); it keeps what the answers' grounding metadata said (`Completion.grounding`): the
web pages used (`groundingChunks[].web` title and uri), the queries Google ran
(`webSearchQueries`) and the search suggestions Google's terms require an application to show
next to grounded content (`searchEntryPoint.renderedContent`, an HTML snippet).

One call or two is decided by the model name (`grounding_one_call`): Gemini 2.x (and earlier)
refuses a search tool together with a JSON response schema ("Tool use with a response mime
type: 'application/json' is unsupported"), so there the research is a free-text call and the
structured lesson a second one; Gemini 3 and later accept both in one request. A name we cannot
read a version from gets two calls, which every model accepts.
"""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from ai_chat.agent.base import (
    Agent,
    Completion,
    GenerationRequest,
    Grounding,
    StreamEvent,
    WebSource,
)
from ai_chat.agent.gemini import GeminiAgent

# `gemini-3-flash`, `gemini-3.1-pro-preview`, `models/gemini-10-x`: the major version.
_MAJOR = re.compile(r"(?:^|/)gemini-(\d+)")
# The first major version that takes a search tool and a response schema in one request.
ONE_CALL_SINCE = 3
# Bounds on what is kept of one lesson's grounding (a lesson lists its sources, not hundreds).
MAX_SOURCES = 20
MAX_QUERIES = 20


def grounding_one_call(model: str) -> bool:
    """Whether `model` accepts the search tool and a JSON response schema in one request."""
    match = _MAJOR.search(model.strip().lower())
    return match is not None and int(match.group(1)) >= ONE_CALL_SINCE


def grounding_merge(kept: Grounding | None, new: Grounding) -> Grounding:
    """`kept` and `new` together: web pages (http(s) links only) and queries each once, in
    order, bounded; the latest search suggestions (they go with the latest answer)."""
    sources = {s.uri: s for s in (kept.sources if kept else ())}
    for source in new.sources:
        if source.uri.startswith(("https://", "http://")) and source.uri not in sources:
            sources[source.uri] = WebSource(title=source.title[:300], uri=source.uri[:2000])
    queries = dict.fromkeys([*(kept.queries if kept else ()), *new.queries])
    return Grounding(
        sources=tuple(sources.values())[:MAX_SOURCES],
        queries=tuple(q[:300] for q in queries if q)[:MAX_QUERIES],
        search_entry_point=new.search_entry_point or (kept.search_entry_point if kept else ""),
    )


class GroundedGeminiAgent(GeminiAgent):
    """The GeminiAgent with Google Search in every request; `grounding` merges what every
    answer it streamed was grounded in (one agent per lesson job, so it is that job's)."""

    grounding: Grounding | None = None

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        async for event in super().stream(replace(request, search=True)):
            if isinstance(event, Completion) and event.grounding is not None:
                self.grounding = grounding_merge(self.grounding, event.grounding)
            yield event


@dataclass
class Research:
    """A lesson job's grounded agent: `agent` (the search-enabled Gemini behind its breaker,
    each attempt registered like the chain's) and whether it writes the lesson in one call."""

    agent: Agent
    gemini: GroundedGeminiAgent
    one_call: bool

    @property
    def grounding(self) -> Grounding | None:
        return self.gemini.grounding


def research_build() -> Research:
    """The grounded agent of the configured Gemini (`GEMINI_*`); ValueError without a key."""
    from django.conf import settings

    from ai_chat.agent.breaker import BREAKERS
    from ai_chat.agent.fallback import FallbackAgent, Link

    gemini = GroundedGeminiAgent.from_settings()
    assert isinstance(gemini, GroundedGeminiAgent)
    # The same breaker as the chain's Gemini entry: one provider, one view of its health.
    breaker = BREAKERS.get(
        ("gemini", settings.GEMINI_BASE_URL, settings.GEMINI_MODEL),
        threshold=settings.AI_BREAKER_THRESHOLD,
        cooldown=settings.AI_BREAKER_COOLDOWN_SECONDS,
    )
    return Research(
        agent=FallbackAgent([Link(gemini, breaker)]),
        gemini=gemini,
        one_call=grounding_one_call(settings.GEMINI_MODEL),
    )
