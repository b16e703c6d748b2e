"""Prometheus metrics of a serving process, and the small API the rest of the code calls.

Every function here is cheap (a dict lookup and an increment) and never raises: a metric must
not break a socket. Label values come from fixed vocabularies; anything else is counted as
`other`, so no client can create new time series.

One process, one `/metrics` by default. With `PROMETHEUS_MULTIPROC_DIR` set before the process
starts, prometheus_client writes every value to files in that directory and `/metrics` merges
the files of all processes (docs/monitoring.md, "Several processes").
"""

import os
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    multiprocess,
)

from ops.backlog import BacklogCollector

OTHER = "other"

# The kinds (and their endpoints) are declared by the app that owns them at start-up
# (`labels_declare`, from `ai_chat`'s `AppConfig.ready`): ops lists no kind.
ENDPOINTS: set[str] = {"events"}
KINDS: set[str] = set()
OUTCOMES = frozenset({"completed", "failed", "cancelled"})
DIRECTIONS = ("input", "output")
# The realtime event names: registered where they are declared (`realtime.registry`).
EVENTS: set[str] = set()
# The codes of `error` and `auth_error` frames: registered by the code that defines them
# (`sockets.errors`), so a new error code is labelled as itself, never restated here.
ERROR_CODES: set[str] = set()

# Server-added latency is usually well under a millisecond; a slow loop shows up in the 10 ms
# to 1 s buckets.
CHUNK_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


def multiprocess_mode() -> bool:
    """Whether values are shared through PROMETHEUS_MULTIPROC_DIR (read at process start)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


REGISTRY = CollectorRegistry(auto_describe=True)
REGISTRY.register(BacklogCollector())
if not multiprocess_mode():  # these read this process only; files cannot hold them
    ProcessCollector(registry=REGISTRY)
    PlatformCollector(registry=REGISTRY)
    GCCollector(registry=REGISTRY)

WS_CONNECTIONS_OPEN = Gauge(
    "lectern_ws_connections_open",
    "WebSocket connections open now, per endpoint.",
    ["endpoint"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
GENERATIONS = Counter(
    "lectern_generations",
    "Generations that ended, by kind and outcome (completed, failed, cancelled).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
CHUNK_LATENCY = Histogram(
    "lectern_chunk_latency_seconds",
    "Time from a chunk leaving the provider to its frame being sent on a socket.",
    ["kind"],
    buckets=CHUNK_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ERROR_FRAMES = Counter(
    "lectern_error_frames",
    "`error` and `auth_error` frames sent, by code.",
    ["code"],
    registry=REGISTRY,
)
TOKENS = Counter(
    "lectern_tokens",
    "Model tokens used, by kind and direction (input, output).",
    ["kind", "direction"],
    registry=REGISTRY,
)
PROVIDER_ATTEMPTS = Counter(
    "lectern_provider_attempts",
    "Providers asked (or skipped) for a stream, by provider of the chain and outcome.",
    ["provider", "outcome"],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "lectern_events_published",
    "Realtime events published to the channel layer, by event.",
    ["event"],
    registry=REGISTRY,
)
EVENTS_DELIVERED = Counter(
    "lectern_events_delivered",
    "Realtime events sent to a subscribed socket, by event.",
    ["event"],
    registry=REGISTRY,
)


def register_error_codes(*codes: str) -> None:
    """Label `error`/`auth_error` frames with these codes (series created at 0)."""
    for code in codes:
        if code not in ERROR_CODES:
            ERROR_CODES.add(code)
            ERROR_FRAMES.labels(code)


def register_events(*names: str) -> None:
    """Label published and delivered realtime events with these names (series created at 0)."""
    for name in names:
        if name not in EVENTS:
            EVENTS.add(name)
            EVENTS_PUBLISHED.labels(name)
            EVENTS_DELIVERED.labels(name)


def _bounded(value: Any, known: frozenset[str] | set[str]) -> str:
    return value if isinstance(value, str) and value in known else OTHER


def labels_declare(*, kinds: Iterable[str] = (), endpoints: Iterable[str] = ()) -> None:
    """Called at start-up by the app owning them: add kinds and endpoints to the vocabularies
    and create their series at 0."""
    KINDS.update(kinds)
    _CHUNK_LATENCY_SERIES.clear()  # a kind seen before it was declared counted as OTHER
    ENDPOINTS.update(endpoints)
    _init_kind_series(kinds=(*kinds, OTHER), endpoints=(*endpoints, OTHER))


def _init_kind_series(*, kinds: Iterable[str], endpoints: Iterable[str]) -> None:
    for endpoint in endpoints:
        WS_CONNECTIONS_OPEN.labels(endpoint)
    for kind in kinds:
        CHUNK_LATENCY.labels(kind)
        for outcome in OUTCOMES:
            GENERATIONS.labels(kind, outcome)
        for direction in DIRECTIONS:
            TOKENS.labels(kind, direction)


def _init_series() -> None:
    """Create every known series at 0, so that `rate()` and alerts see them from the start."""
    _init_kind_series(kinds=(*KINDS, OTHER), endpoints=(*ENDPOINTS, OTHER))
    for code in (*ERROR_CODES, OTHER):
        ERROR_FRAMES.labels(code)
    for event in (*EVENTS, OTHER):
        EVENTS_PUBLISHED.labels(event)
        EVENTS_DELIVERED.labels(event)


_init_series()


# --- the API ------------------------------------------------------------------------------


def connection_opened(endpoint: str) -> None:
    """A WebSocket was accepted on `endpoint` (a kind name, or `events`)."""
    WS_CONNECTIONS_OPEN.labels(_bounded(endpoint, ENDPOINTS)).inc()


def connection_closed(endpoint: str) -> None:
    """A WebSocket counted by `connection_opened` closed."""
    WS_CONNECTIONS_OPEN.labels(_bounded(endpoint, ENDPOINTS)).dec()


def generation_finished(kind: str, outcome: str) -> None:
    """A generation ended with `outcome`: completed, failed or cancelled."""
    GENERATIONS.labels(_bounded(kind, KINDS), _bounded(outcome, OUTCOMES)).inc()


# CHUNK_LATENCY's series by kind; a kind outside KINDS maps to OTHER's series, so the
# dictionary holds at most the kinds the code asks with.
_CHUNK_LATENCY_SERIES: dict[str, Any] = {}


def observe_chunk_latency(kind: str, seconds: float) -> None:
    """One chunk's time from the provider to the socket (once per chunk per socket: the
    labelled series is looked up once per kind, not per chunk)."""
    if isinstance(seconds, int | float) and seconds >= 0:
        series = _CHUNK_LATENCY_SERIES.get(kind)
        if series is None:
            series = _CHUNK_LATENCY_SERIES[kind] = CHUNK_LATENCY.labels(_bounded(kind, KINDS))
        series.observe(seconds)


def error_frame(code: str) -> None:
    """An `error` or `auth_error` frame with `code` was sent."""
    ERROR_FRAMES.labels(_bounded(code, ERROR_CODES)).inc()


def tokens_used(kind: str, input_tokens: int | None, output_tokens: int | None) -> None:
    """Tokens a generation used (its `usage`); None or negative counts are ignored."""
    label = _bounded(kind, KINDS)
    for direction, count in zip(DIRECTIONS, (input_tokens, output_tokens), strict=True):
        if isinstance(count, int) and count > 0:
            TOKENS.labels(label, direction).inc(count)


def provider_attempt(provider: str, outcome: str) -> None:
    """A provider of the chain was asked or skipped (names come from configuration: bounded)."""
    PROVIDER_ATTEMPTS.labels(provider[:30], outcome).inc()


def event_published(event: str) -> None:
    """A realtime event was published (once per publish, whatever the number of receivers)."""
    EVENTS_PUBLISHED.labels(_bounded(event, EVENTS)).inc()


def event_delivered(event: str) -> None:
    """A realtime event was sent to one subscribed socket."""
    EVENTS_DELIVERED.labels(_bounded(event, EVENTS)).inc()


# --- chunk latency without touching the frames ----------------------------------------------


class ChunkClock:
    """When each chunk of a generation running in this process came from the provider.

    The runner notes a chunk as it arrives; each socket that sends it looks the time up. Entries
    are dropped after `max_age` seconds or beyond `max_entries` (oldest first), so memory stays
    bounded whatever happens to a generation; a chunk sent later than that is not observed.
    Chunks replayed from another process (through Redis) are never observed: clocks differ.
    """

    def __init__(self, *, max_age: float = 10.0, max_entries: int = 50_000) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._received: OrderedDict[tuple[str, int], float] = OrderedDict()

    def received(self, message_id: str, index: int) -> None:
        now = time.monotonic()
        self._received[(message_id, index)] = now
        self._prune(now)

    def sent(self, kind: str, message_id: str, index: int) -> None:
        at = self._received.get((message_id, index))
        if at is not None:
            observe_chunk_latency(kind, time.monotonic() - at)

    def _prune(self, now: float) -> None:
        entries = self._received
        while entries:
            key, at = next(iter(entries.items()))
            if now - at <= self.max_age and len(entries) <= self.max_entries:
                return
            del entries[key]


CHUNK_CLOCK = ChunkClock()


def chunk_received(message_id: str, index: int) -> None:
    """The runner got chunk `index` of `message_id` from the provider (call before publishing)."""
    CHUNK_CLOCK.received(message_id, index)


def chunk_sent(kind: str, message_id: str, index: int) -> None:
    """A socket sent chunk `index` of `message_id`: observes its latency when it is known."""
    CHUNK_CLOCK.sent(kind, message_id, index)


# --- exposition -----------------------------------------------------------------------------


def collecting_registry() -> CollectorRegistry:
    """The registry to expose: this process's, or the merge of every process's files (with
    the gauges read at scrape time: Redis memory, this process's channel-layer backlog)."""
    if not multiprocess_mode():
        return REGISTRY
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    merged.register(BacklogCollector())
    return merged


def mark_process_dead(pid: int) -> None:
    """In multiprocess mode, drop a finished process's live gauges (called at exit)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)
