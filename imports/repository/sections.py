"""Cutting a long document to fit a model's context: on headings, never in the middle of a word.

A document is split into sections at its Markdown headings (ATX `#` lines, and underlined
setext/reStructuredText titles; `#` lines inside fenced code are not headings). A document
longer than `max_chars` is cut at the last heading that keeps at least half of the room; failing
that, at the last paragraph break that does; failing that, at the last whitespace. Only a single
"word" longer than the whole room is cut inside it.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A part of a document under one heading ("" before the first); `text` includes the
    heading line, so the sections' texts joined give the document (or its kept part) back."""

    heading: str
    text: str


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_UNDERLINE = re.compile(r"^ {0,3}([=\-~^\"'*+#])\1*[ \t]*$")


def cut_on_headings(text: str, max_chars: int) -> tuple[list[Section], bool]:
    """The document's sections within `max_chars` characters, and whether it had to be cut."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    starts = _section_starts(text)
    cut = False
    if len(text) > max_chars:
        text = text[: _cut_point(text, max_chars, [offset for offset, _ in starts])]
        cut = True
    sections = []
    kept = [(offset, heading) for offset, heading in starts if offset < len(text)]
    for index, (offset, heading) in enumerate(kept):
        end = kept[index + 1][0] if index + 1 < len(kept) else len(text)
        body = text[offset:end]
        if body.strip():
            sections.append(Section(heading=heading, text=body))
    return sections, cut


def _section_starts(text: str) -> list[tuple[int, str]]:
    """(offset, heading) of each section, the first at offset 0 with heading ""."""
    starts: list[tuple[int, str]] = [(0, "")]
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    fence = ""
    for index, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        opening = _FENCE.match(bare)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        atx = _ATX.match(bare)
        if atx:
            starts.append((offsets[index], (atx.group(2) or "").strip()))
            continue
        following = lines[index + 1].rstrip("\r\n") if index + 1 < len(lines) else ""
        if (
            bare.strip()
            and not atx
            and _UNDERLINE.match(following)
            and len(following.strip()) >= min(len(bare.strip()), 3)
        ):
            starts.append((offsets[index], bare.strip()))
    if len(starts) > 1 and starts[1][0] == 0:
        starts.pop(0)  # the document opens with a heading: no untitled preamble
    return starts


def _cut_point(text: str, max_chars: int, starts: list[int]) -> int:
    """Where to cut `text` so that at most `max_chars` characters remain."""
    half = max_chars // 2
    heading = max((s for s in starts if 0 < s <= max_chars), default=0)
    if heading >= half:
        return heading
    paragraph = text.rfind("\n\n", 0, max_chars)
    paragraph = paragraph + 2 if paragraph >= 0 else 0
    if paragraph >= half:
        return paragraph
    space = max((m.start() for m in re.finditer(r"\s", text[: max_chars + 1])), default=0)
    if space > 0:
        return space
    return max(heading, paragraph) or max_chars
