"""`StreamingFrame.chunks_of`: the hot path's frames are the frames `make` builds, byte for byte."""

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_chat.server_frames import StreamingFrame

CID, MID = uuid.uuid4(), uuid.uuid4()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
# Text as a provider's reader decodes it: any code point but lone surrogates (which no UTF-8
# stream carries and neither path can encode).
text = st.text(st.characters(exclude_categories=("Cs",)))
chunks = text
partials = st.none() | st.dictionaries(text, json_values)


def both(index, chunk, partial):
    made = StreamingFrame.make(
        conversation_id=CID, message_id=MID, index=index, chunk=chunk, partial=partial
    )
    fast = StreamingFrame.chunks_of(CID, MID)(index, chunk, partial)
    return made, fast


@settings(max_examples=300, deadline=None)
@given(index=st.integers(min_value=0, max_value=10**9), chunk=chunks, partial=partials)
def test_the_fast_frame_is_the_validated_frame(index, chunk, partial):
    made, fast = both(index, chunk, partial)
    assert fast.wire() == made.wire()
    assert fast.wire("req-1") == made.wire("req-1")
    assert fast == made  # fields, fields set and the cached wire alike
    assert fast.model_dump() == made.model_dump()
    assert fast.model_fields_set == made.model_fields_set


def test_awkward_text_is_escaped_as_the_serialiser_does():
    chunk = 'quote " backslash \\ newline \n tab \t nul \x00 bell \x07 é 漢 😀 </script>'
    made, fast = both(3, chunk, {"title": 'a "b"', "n": [1, 2.5, None, True]})
    assert fast.wire() == made.wire()
    assert json.loads(fast.wire())["chunk"] == chunk


def test_the_frame_is_a_streaming_frame_that_copies_and_validates():
    fast = StreamingFrame.chunks_of(CID, MID)(0, "x")
    assert isinstance(fast, StreamingFrame)
    assert fast.index == 0 and fast.message_id == MID and fast.partial is None
    again = StreamingFrame.model_validate_json(fast.wire())
    assert again == StreamingFrame.make(conversation_id=CID, message_id=MID, index=0, chunk="x")


@pytest.mark.parametrize(
    "index, chunk, partial",
    [(-1, "x", None), ("1", "x", None), (0, b"x", None), (0, None, None), (0, "x", ["no"])],
)
def test_what_is_not_a_chunk_is_refused(index, chunk, partial):
    with pytest.raises(ValueError):
        StreamingFrame.chunks_of(CID, MID)(index, chunk, partial)
