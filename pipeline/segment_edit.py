"""Rewriting a segment's text without losing its word timings.

A Whisper segment's text is its words joined (``"".join(w.word for w in words).strip()``; English
words carry a leading space, Japanese ones none). Every rewrite of the text (a reviewer's
correction, the glossary pass) goes through :func:`replace_in_segment`, which rewrites the words
touched by the change together with the text, so that the words around it keep their times and
evidence can still be timed from the words inside its span.

:func:`rewrite_segment` turns a whole new text into such replacements (a character diff) and
returns a :class:`TextDiff` that maps offsets in the old text to offsets in the new one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .models import Segment, Word


def word_ranges(seg: Segment) -> list[tuple[int, int]] | None:
    """(start, end) of each word's visible characters inside ``seg.text`` (spaces excluded).

    None when the words do not spell the text (e.g. a text rewritten without its words before
    this module existed): callers then fall back to estimates from the segment's times.
    """
    if not seg.words:
        return None
    joined = "".join(w.word for w in seg.words)
    if joined.strip() == seg.text:
        pos = -(len(joined) - len(joined.lstrip()))  # the stripped leading space
        out = []
        for w in seg.words:
            lead = len(w.word) - len(w.word.lstrip())
            out.append((pos + lead, pos + len(w.word.rstrip()) if w.word.strip() else pos + lead))
            pos += len(w.word)
        return out
    # the words are the text's pieces with other spacing: find each one in order
    out, cursor = [], 0
    for w in seg.words:
        token = w.word.strip()
        at = seg.text.find(token, cursor) if token else cursor
        if at < 0 or seg.text[cursor:at].strip():
            return None
        out.append((at, at + len(token)))
        cursor = at + len(token)
    return out if not seg.text[cursor:].strip() else None


def replace_in_segment(segment: Segment, start: int, end: int, new_text: str) -> Segment:
    """A copy of ``segment`` with ``text[start:end]`` replaced by ``new_text``, words included.

    Every character keeps the word it belongs to. The new text joins the first word whose
    visible characters it replaces, and that word then lasts until the last word it replaces
    ends (商 + 人 -> 承認, timed from 商's start to 人's end); an insertion joins the word it
    is written before. Words wholly replaced disappear; the others keep their text and times.
    When the words do not spell the text, only the text changes.
    """
    text = segment.text
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"range {start}:{end} outside a text of {len(text)} characters")
    new = segment.model_copy(deep=True)
    new.text = text[:start] + new_text + text[end:]
    words = segment.words
    joined = "".join(w.word for w in words)
    if not words or joined.strip() != text:
        return new
    lead = len(joined) - len(joined.lstrip())  # the first word's space, not in the text
    owner = [i for i, w in enumerate(words) for _ in w.word]
    s, e = start + lead, end + lead
    replaced = [owner[k] for k in range(s, e) if not joined[k].isspace()]
    if replaced:
        first, last = replaced[0], replaced[-1]
    else:  # an insertion (or spacing): it joins the next word, else the one before
        nxt = (owner[k] for k in range(e, len(joined)) if not joined[k].isspace())
        first = last = next(nxt, owner[s - 1] if s > 0 else 0)
    chars = list(
        zip(
            joined[:s] + new_text + joined[e:],
            owner[:s] + [first] * len(new_text) + owner[e:],
            strict=True,
        )
    )
    groups: list[tuple[int, str]] = []
    for ch, o in chars:
        if groups and groups[-1][0] == o:
            groups[-1] = (o, groups[-1][1] + ch)
        else:
            groups.append((o, ch))
    out: list[Word] = []
    spacing = ""  # a word left with only its spacing gives it to the next word
    for o, piece in groups:
        if not piece.strip():
            spacing += piece
            continue
        w = words[o]
        if o == first:
            span = words[first : last + 1]
            w = w.model_copy(
                update={"end": words[last].end, "probability": min(x.probability for x in span)}
            )
        out.append(w.model_copy(update={"word": spacing + piece}))
        spacing = ""
    if spacing and out:
        out[-1] = out[-1].model_copy(update={"word": out[-1].word + spacing})
    new.words = out
    if "".join(w.word for w in out).strip() == new.text.strip():
        new.text = new.text.strip()  # a segment's text has no spacing at either end
    return new


@dataclass(frozen=True)
class TextDiff:
    """How a segment's old text became its new text (difflib opcodes on characters)."""

    old: str
    new: str
    opcodes: tuple[tuple[str, int, int, int, int], ...]

    @classmethod
    def of(cls, old: str, new: str) -> TextDiff:
        sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
        return cls(old, new, tuple(sm.get_opcodes()))

    def map_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The span ``old[start:end]`` in the new text, when the edit left it untouched (the
        same characters, moved); None when the edit changed something inside it."""
        for tag, i1, i2, j1, _j2 in self.opcodes:
            if tag == "equal" and i1 <= start and end <= i2 and (start < end or i1 < i2):
                return j1 + start - i1, j1 + end - i1
        return None

    def map_start(self, pos: int) -> int | None:
        """Where the character at old offset ``pos`` is now, if the edit left it in place."""
        for tag, i1, i2, j1, _j2 in self.opcodes:
            if tag == "equal" and i1 <= pos < i2:
                return j1 + pos - i1
        return None

    def map_end(self, pos: int) -> int | None:
        """Where an old end offset ``pos`` is now, if the character before it was left in place."""
        start = self.map_start(pos - 1) if pos > 0 else None
        return None if start is None else start + 1

    @property
    def changed(self) -> int:
        """Characters removed or inserted by the edit."""
        return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in self.opcodes if tag != "equal")

    def map_pos(self, pos: int) -> int:
        """Where an old offset lies in the new text (inside a changed part: its start)."""
        for tag, i1, i2, j1, j2 in self.opcodes:
            if i1 <= pos < i2 or (pos == i2 == len(self.old)):
                return j1 + min(pos - i1, j2 - j1) if tag == "equal" else j1
        return len(self.new)


def rewrite_segment(segment: Segment, new_text: str) -> tuple[Segment, TextDiff]:
    """``segment`` with its text replaced by ``new_text``, each changed part through
    :func:`replace_in_segment` (so untouched words keep their times), and the diff."""
    diff = TextDiff.of(segment.text, new_text)
    out = segment
    for tag, i1, i2, j1, j2 in reversed(diff.opcodes):  # right to left: offsets stay valid
        if tag != "equal":
            out = replace_in_segment(out, i1, i2, new_text[j1:j2])
    if out.text != new_text:  # defensive: the text the reviewer typed is what is kept
        out = out.model_copy(update={"text": new_text})
    return out, diff
