"""Transcript -> numbered sentences ("units") with exact character spans; summaries of a quote.

Leaf module of the extraction stage (imports only the domain model and the lexicon).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .lexicon import both, lexicon
from .models import Segment, Transcript

MAX_UNIT_CHARS = 160  # longer unpunctuated ASR text is cut at commas / spaces
MIN_UNIT_CHARS = 6  # shorter units ("はい。", "Right.") are never elements
INTERVIEWER = "interviewer"

_SENTENCE_END = re.compile(r"[。！？!?]+|\.(?=\s|$)")
_SOFT_BREAK = re.compile(r"[、,]\s*|\s+")
# titles and abbreviations whose full stop ends no sentence or clause ("Mr. Smith", "e.g. a
# refund"), as written (the answer "no." ends one); "etc." is not one of them: it usually does
ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "No", "vs", "e.g", "i.e")
_ABBREVIATION_END = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")\.$")


@dataclass
class Unit:
    """One sentence of the transcript, with its exact span in ``Transcript.text``."""

    index: int
    segment: Segment
    start: int
    end: int
    text: str
    question: str = ""  # the interviewer's last question before it
    before: str = ""  # the previous sentence of the same speaker's turn
    label: str = "none"
    confidence: float | None = None  # the model's probability for ``label`` (None: unknown)

    @property
    def classifiable(self) -> bool:
        return (
            self.segment.speaker != INTERVIEWER
            and len(core(self.text)) >= MIN_UNIT_CHARS
            and not both().search("instruction", self.text)
        )


def ends_with_abbreviation(text: str) -> bool:
    """Whether ``text`` ends with a title or abbreviation and its full stop ("… Mr.")."""
    return bool(_ABBREVIATION_END.search(text))


def core(text: str) -> str:
    """Letters and digits only (NFKC): what is left of a sentence without punctuation."""
    return re.sub(r"[\W_]", "", unicodedata.normalize("NFKC", text))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > MAX_UNIT_CHARS:  # long unpunctuated ASR text: cut at a comma or space
            cut = None
            for m in _SOFT_BREAK.finditer(text, s + MAX_UNIT_CHARS // 2, s + MAX_UNIT_CHARS):
                cut = m.end()
            cut = cut or s + MAX_UNIT_CHARS
            out.append((s, cut))
            s = cut
        out.append((s, e))
    trimmed = []
    for s, e in out:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def split_units(transcript: Transcript) -> list[Unit]:
    units: list[Unit] = []
    question = ""
    last_speaker = None
    for seg, (s0, _s1) in zip(transcript.segments, transcript.segment_spans(), strict=True):
        if seg.speaker == INTERVIEWER:
            question = seg.text.strip()[-120:]
        same_turn = seg.speaker == last_speaker
        last_speaker = seg.speaker
        for n, (a, b) in enumerate(sentence_spans(seg.text)):
            prev = units[-1].text if units and (n > 0 or same_turn) else ""
            units.append(
                Unit(
                    index=len(units),
                    segment=seg,
                    start=s0 + a,
                    end=s0 + b,
                    text=seg.text[a:b],
                    question=question if seg.speaker != INTERVIEWER else "",
                    before=prev[-120:],
                )
            )
    return units


def chunk_units(units: list[Unit], size: int) -> list[list[Unit]]:
    return [units[i : i + size] for i in range(0, len(units), size)]


def summarise(text: str, language: str = "ja") -> str:
    """The quote without leading fillers and the final full stop (the fallback summary)."""
    s = text.strip()
    for lang in (language, "en" if language != "en" else "ja"):
        s = lexicon(lang).re("leading").sub("", s).strip()
    s = s.rstrip("。.！!？?")
    return s or text.strip()


def summarise_head(text: str, language: str = "ja") -> str:
    """The sentence with fillers (えーと, "well") removed but connectors kept."""
    s = text.strip()
    for lang in (language, "en" if language != "en" else "ja"):
        s = lexicon(lang).re("fillers").sub("", s)
    return s
