import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_course_generation_streams_then_completes(connect, user):
    """A message streams chunks with consecutive indexes and ends with a valid `complete`."""
    client = await connect("course", user)
    await client.send(
        type="message", content="Intro to Java", context={"age_range": "8-12"}, request_id="r1"
    )
    frames = await client.until("complete", "error")
    types = [f["type"] for f in frames]
    assert types[0] == "conversation" and types[1] == "started"
    assert types[-1] == "complete", frames[-1]
    indexes = [f["index"] for f in frames if f["type"] == "streaming"]
    assert indexes == list(range(len(indexes)))
    assert all(f["request_id"] == "r1" for f in frames)
    await client.close()
