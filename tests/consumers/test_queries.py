"""Chunks never cost a database write: a generation's queries do not grow with its chunks."""

import math

import pytest

from ai_chat.services import workers
from ai_chat.services.runtime import generation_service
from tests.consumers.conftest import streaming

pytestmark = pytest.mark.django_db(transaction=True)


async def test_queries_per_generation_are_fixed_whatever_the_chunk_count(
    connect, user, count_queries, monkeypatch
):
    """A generation of 10 chunks and one of 200 chunks run the same number of SQL statements."""
    # The heartbeat's sweep of dead workers' messages would fall into the window at random.
    monkeypatch.setattr(workers, "sweep_interrupted", lambda: 0)
    client = await connect("course", user)
    runtime = await generation_service()
    warm_up = await client.generate("Intro to Java")  # fills caches (content types, sessions)
    length = len("".join(f["chunk"] for f in streaming(warm_up)))
    counter = count_queries()

    async def statements_for(chunk_size: int) -> tuple[int, int]:
        runtime.agent.chunk_size = chunk_size
        counter.reset()
        frames = await client.generate("Intro to Java")
        assert frames[-1]["type"] == "complete", frames[-1]
        return len(counter), len(streaming(frames))

    few, few_chunks = await statements_for(math.ceil(length / 10))
    many, many_chunks = await statements_for(length // 200)
    assert few_chunks == 10 and many_chunks >= 200
    assert few == many, f"{few} statements for 10 chunks, {many} for {many_chunks}:\n" + "\n".join(
        counter.statements
    )
    # Start: BEGIN, the user's row locked with its running count, conversation, budget, two
    # messages. End: BEGIN, the message's row, message, conversation totals, budget.
    assert few <= 11, f"a generation ran {few} SQL statements:\n" + "\n".join(counter.statements)
    print(f"SQL statements per generation: {few} (10 chunks), {many} ({many_chunks} chunks)")
