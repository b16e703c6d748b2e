"""Gauges read when `/metrics` is scraped: Redis's memory and the channel layer's backlog.

- `lectern_redis_memory_used_bytes` and `lectern_redis_memory_max_bytes` (`INFO memory`'s
  `used_memory` and `maxmemory`, 0 meaning no limit), with `REDIS_URL` only. Every process
  reports the same Redis. A Redis that does not answer within a second leaves them out and sets
  `lectern_redis_up` to 0, so the scrape itself never hangs on it.
- `lectern_channel_layer_backlog_messages`: messages that reached this process's channel layer
  and wait for their socket to take them (events for a slow or stuck consumer pile up here),
  plus, with the `core` Redis layer, those still queued in Redis for this process.
  `lectern_channel_layer_backlog_max_messages` is the longest single queue: one stuck socket.

The channel layers keep their queues in private attributes (channels 4, channels_redis 4:
`channels` per loop layer of the pub/sub layer, `receive_buffer` of the core layer, `channels`
of the in-memory layer); an unknown layer reports no backlog rather than failing the scrape.
"""

import logging
import threading
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1.0
_lock = threading.Lock()
_clients: dict[str, Any] = {}


def _redis() -> Any | None:
    """A client for the scrape only: short timeouts, no retries (REDIS_URL unset: None)."""
    url = settings.REDIS_URL
    if not url:
        return None
    with _lock:
        if url not in _clients:
            import redis

            _clients[url] = redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
            )
        return _clients[url]


def _queue_lengths(layer: Any) -> list[int]:
    """This process's queued messages per channel, for the layers we know."""
    queues: list[Any] = []
    for loop_layer in list(getattr(layer, "_layers", {}).values()):  # pub/sub: one per loop
        queues.extend(list(getattr(loop_layer, "channels", {}).values()))
    queues.extend(list(getattr(layer, "receive_buffer", {}).values()))  # core
    if type(layer).__name__ == "InMemoryChannelLayer":
        queues.extend(list(getattr(layer, "channels", {}).values()))
    return [queue.qsize() for queue in queues if hasattr(queue, "qsize")]


def _redis_queued(layer: Any, client: Any) -> int:
    """With the core layer: this process's messages still in Redis (one sorted set)."""
    prefix, client_prefix = getattr(layer, "prefix", None), getattr(layer, "client_prefix", None)
    if client is None or prefix is None or client_prefix is None:
        return 0
    return int(client.zcard(f"{prefix}specific.{client_prefix}!"))


NAMES = (
    "lectern_redis_up",
    "lectern_redis_memory_used_bytes",
    "lectern_redis_memory_max_bytes",
    "lectern_channel_layer_backlog_messages",
    "lectern_channel_layer_backlog_max_messages",
)


class BacklogCollector(Collector):
    """Collected at each scrape (in the scrape's thread); never on registration."""

    def describe(self) -> Iterable[GaugeMetricFamily]:
        """The metrics' names without reading anything (the registry asks at registration)."""
        return [GaugeMetricFamily(name, name) for name in NAMES]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        client = _redis()
        yield from self._redis_memory(client)
        yield from self._backlog(client)

    def _redis_memory(self, client: Any) -> Iterable[GaugeMetricFamily]:
        if client is None:
            return
        up = GaugeMetricFamily("lectern_redis_up", "Whether Redis answered this scrape.")
        try:
            info = client.info("memory")
        except Exception as exc:
            logger.warning("metrics: Redis did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        used = GaugeMetricFamily("lectern_redis_memory_used_bytes", "Redis used_memory.")
        used.add_metric([], float(info.get("used_memory", 0)))
        yield used
        limit = GaugeMetricFamily(
            "lectern_redis_memory_max_bytes", "Redis maxmemory (0: no limit)."
        )
        limit.add_metric([], float(info.get("maxmemory", 0)))
        yield limit

    def _backlog(self, client: Any) -> Iterable[GaugeMetricFamily]:
        from channels.layers import get_channel_layer

        lengths: list[int] = []
        queued = 0
        try:
            layer = get_channel_layer()
            if layer is not None:
                lengths = _queue_lengths(layer)
                queued = _redis_queued(layer, client)
        except Exception as exc:
            logger.warning("metrics: channel layer backlog unreadable (%s)", type(exc).__name__)
        total = GaugeMetricFamily(
            "lectern_channel_layer_backlog_messages",
            "Channel-layer messages waiting for this process's sockets.",
        )
        total.add_metric([], float(sum(lengths) + queued))
        yield total
        longest = GaugeMetricFamily(
            "lectern_channel_layer_backlog_max_messages",
            "The longest single channel queue of this process.",
        )
        longest.add_metric([], float(max(lengths, default=0)))
        yield longest
