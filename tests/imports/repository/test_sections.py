"""cut_on_headings: long documents cut on headings, never in the middle of a word."""

import pytest

from imports.repository import Section, cut_on_headings

DOC = (
    "Intro paragraph.\n\n"
    "# Install\n\nRun the installer.\n\n"
    "## Configure\n\nSet the options.\n\n"
    "```sh\n# not a heading\nexport A=1\n```\n\n"
    "Usage\n=====\n\nCall it.\n"
)


def test_a_short_document_is_split_on_its_headings_and_not_cut():
    """All sections, with their headings; the texts join back to the document."""
    sections, cut = cut_on_headings(DOC, 10_000)
    assert not cut
    assert [s.heading for s in sections] == ["", "Install", "Configure", "Usage"]
    assert "".join(s.text for s in sections) == DOC


def test_a_heading_inside_fenced_code_is_not_a_heading():
    """`# not a heading` in a code block stays inside the Configure section."""
    sections, _ = cut_on_headings(DOC, 10_000)
    assert "# not a heading" in sections[2].text


def test_a_long_document_is_cut_on_a_heading():
    """The cut falls on the last heading that keeps at least half the room."""
    room = DOC.index("Usage\n") + 5
    sections, cut = cut_on_headings(DOC, room)
    assert cut
    assert [s.heading for s in sections] == ["", "Install", "Configure"]
    assert "".join(s.text for s in sections) == DOC[: DOC.index("Usage\n")]


def test_a_long_section_is_cut_on_a_paragraph_then_on_whitespace():
    """Without a heading in reach: a paragraph break; without one: whitespace, never mid-word."""
    paragraphs = "# Long\n\n" + "alpha beta gamma delta.\n\n" * 20
    sections, cut = cut_on_headings(paragraphs, 100)
    kept = "".join(s.text for s in sections)
    assert cut and len(kept) <= 100 and kept.endswith("\n\n")
    words = "# Words\n" + "lorem ipsum " * 50
    sections, cut = cut_on_headings(words, 101)
    kept = "".join(s.text for s in sections)
    assert cut and len(kept) <= 101
    assert words.startswith(kept) and words[len(kept)] == " "


@pytest.mark.parametrize("room", range(5, 120, 7))
def test_no_cut_ever_splits_a_word(room):
    """Whatever the room, the kept text ends where a word ends."""
    text = "# Title\n\n" + " ".join(f"word{i}" for i in range(40))
    sections, cut = cut_on_headings(text, room)
    kept = "".join(s.text for s in sections)
    assert cut and len(kept) <= room
    assert text.startswith(kept)
    assert not (kept[-1:].isalnum() and text[len(kept)].isalnum())


def test_a_single_word_longer_than_the_room_is_cut_inside_it():
    """The only case a cut falls inside a 'word' (a long token with no whitespace)."""
    sections, cut = cut_on_headings("x" * 50, 20)
    assert cut and sections == [Section(heading="", text="x" * 20)]


def test_room_must_be_positive():
    with pytest.raises(ValueError):
        cut_on_headings("text", 0)
