"""The circuit breaker: closed, open after consecutive failures, half-open trial, closed again."""

from ai_chat.agent.breaker import BreakerRegistry, CircuitBreaker, State


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, threshold: int = 3, cooldown: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(threshold=threshold, cooldown=cooldown, clock=clock)


def test_opens_after_threshold_consecutive_failures():
    """Two failures leave it closed; the third opens it and requests are refused."""
    clock = Clock()
    b = breaker(clock)
    for _ in range(2):
        assert b.allow()
        b.failed()
    assert b.state is State.CLOSED and b.allow()
    b.failed()
    assert b.state is State.OPEN
    assert not b.allow()
    assert b.retry_in() == 30.0


def test_a_success_resets_the_count_of_failures():
    """Failures must be consecutive: a success in between starts the count again."""
    b = breaker(Clock())
    b.failed()
    b.failed()
    b.succeeded()
    b.failed()
    b.failed()
    assert b.state is State.CLOSED


def test_after_the_cooldown_one_trial_is_let_through():
    """Half-open: the first request is the trial; others are refused while it runs."""
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.failed()
    clock.now += 29.9
    assert not b.allow()
    clock.now += 0.2
    assert b.state is State.HALF_OPEN and b.retry_in() is None
    assert b.allow()
    assert not b.allow()


def test_a_successful_trial_closes_it():
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.failed()
    clock.now += 31
    assert b.allow()
    b.succeeded()
    assert b.state is State.CLOSED and b.allow() and b.allow()


def test_a_failed_trial_opens_it_for_another_cooldown():
    clock = Clock()
    b = breaker(clock, threshold=2)
    b.failed()
    b.failed()
    clock.now += 31
    assert b.allow()
    b.failed()
    assert b.state is State.OPEN and not b.allow()
    assert b.retry_in() == 30.0


def test_a_trial_without_verdict_lets_the_next_request_try():
    """A cancelled trial says nothing of the provider: the next request becomes the trial."""
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.failed()
    clock.now += 31
    assert b.allow()
    b.released()
    assert b.allow()


def test_registry_keeps_one_breaker_per_endpoint():
    """Same name, base URL and model: the same breaker; another base URL: another one."""
    registry = BreakerRegistry()
    first = registry.get(("groq", "http://a", "m"), threshold=3, cooldown=30)
    assert registry.get(("groq", "http://a", "m"), threshold=3, cooldown=30) is first
    assert registry.get(("groq", "http://b", "m"), threshold=3, cooldown=30) is not first
