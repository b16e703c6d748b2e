"""A circuit breaker per provider endpoint, shared by every event loop of the process.

Closed: every request is tried. After `threshold` consecutive failures it opens: the provider is
skipped for `cooldown` seconds instead of costing every request its retries. Then it is
half-open: one request is let through as a trial; its success closes the breaker, its failure
opens it for another cool-down, and a trial that ends without a verdict (cancelled, or a request
the provider refused as invalid) lets the next request try.

State sits behind a lock, not an asyncio primitive: Celery's thread pool and tests run several
event loops in one process, and every operation here is a few assignments.
"""

import threading
import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self, *, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._clock() - self._opened_at < self.cooldown:
            return State.OPEN
        return State.HALF_OPEN

    def allow(self) -> bool:
        """Called before asking the provider: whether to ask it now."""
        with self._lock:
            state = self._state()
            if state is State.CLOSED:
                return True
            if state is State.OPEN or self._trial:
                return False
            self._trial = True
            return True

    def retry_in(self) -> float | None:
        """Seconds until the provider will be tried again; None while it is tried."""
        with self._lock:
            if self._state() is not State.OPEN or self._opened_at is None:
                return None
            return max(0.0, self._opened_at + self.cooldown - self._clock())

    def succeeded(self) -> None:
        """The provider answered: close the breaker."""
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        """The provider was unavailable: count it; open on the threshold or a failed trial."""
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.threshold:
                self._opened_at = self._clock()
            self._trial = False

    def released(self) -> None:
        """The attempt ended without saying anything of the provider's health."""
        with self._lock:
            self._trial = False


class BreakerRegistry:
    """One breaker per provider endpoint (name, base URL, model), built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._breakers: dict[tuple[str, ...], CircuitBreaker] = {}

    def get(self, key: tuple[str, ...], *, threshold: int, cooldown: float) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(key)
            if breaker is None:
                breaker = CircuitBreaker(threshold=threshold, cooldown=cooldown)
                self._breakers[key] = breaker
            return breaker

    def clear(self) -> None:
        with self._lock:
            self._breakers.clear()


# The process's breakers: each event loop builds its own agents, but a provider that is down is
# down for all of them.
BREAKERS = BreakerRegistry()
