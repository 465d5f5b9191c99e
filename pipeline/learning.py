"""Learning from review: a word a reviewer corrects once is proposed everywhere in the engagement.

When a reviewer changes a transcript segment (決断 -> 決裁), each word-level replacement
becomes a ``heard=meant`` entry of the engagement's glossary (so later hearings of the
engagement are prompted with the term and corrected with the pair), and every other segment of
the engagement's transcripts where the same heard form occurs gets a *proposed* correction that
the transcript editor shows with apply / dismiss.

Terms a reviewer confirmed (their corrections kept, the nouns of segments they edited) also feed
the correction of the engagement's other hearings (``engagement_terms``).
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from .models import Correction, Segment, SegmentFlag

if TYPE_CHECKING:
    from .store import Store

_WORDCHAR = re.compile(r"[\u3400-\u9fff\u3005\u30a1-\u30fa\u30fcA-Za-z0-9]")
_CONTENT = re.compile(r"[\u3400-\u9fff\u3005\u30a1-\u30faA-Za-z]")
MAX_PAIR_CHARS = 12  # longer rewrites are rewording, not a mis-heard word


def learned_pairs(old: str, new: str) -> list[tuple[str, str]]:
    """The word replacements between a segment's text before and after a reviewer's edit
    (each widened to whole kanji / katakana words: 決断 -> 決裁, not 断 -> 裁)."""
    out: list[tuple[str, str]] = []
    sm = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    if sm.ratio() < 0.45:
        return []  # a rewrite of the sentence, not a mis-heard word
    for tag, a, b, c, d in sm.get_opcodes():
        if tag != "replace":
            continue
        while a > 0 and c > 0 and old[a - 1] == new[c - 1] and _WORDCHAR.match(old[a - 1]):
            a, c = a - 1, c - 1
        while b < len(old) and d < len(new) and old[b] == new[d] and _WORDCHAR.match(old[b]):
            b, d = b + 1, d + 1
        heard, meant = old[a:b].strip(), new[c:d].strip()
        if not _CONTENT.search(heard) or heard == meant:
            continue  # grammar (hiragana) or punctuation
        if meant and max(len(heard), len(meant)) <= MAX_PAIR_CHARS:
            out.append((heard, meant))
    return out


def propose(seg: Segment, heard: str, meant: str) -> Segment | None:
    """The segment with a proposed heard -> meant correction at each occurrence not already
    corrected; None when there is none."""
    taken = [(c.start, c.end) for c in seg.corrections]
    new: list[Correction] = []
    i = seg.text.find(heard)
    while i >= 0:
        j = i + len(heard)
        if all(j <= s or i >= e for s, e in taken):
            new.append(
                Correction(
                    original=heard,
                    replacement=meant,
                    start=i,
                    end=j,
                    source="review",
                    status="proposed",
                )
            )
        i = seg.text.find(heard, j)
    if not new:
        return None
    out = seg.model_copy(deep=True)
    out.corrections = sorted([*out.corrections, *new], key=lambda c: c.start)
    return out


def learn_from_edit(store: Store, interview_id: str, old: Segment, new: Segment) -> int:
    """Record a reviewer's edit of one segment: glossary pairs for the engagement and proposals
    in its other segments. Returns how many proposals were made."""
    pairs = learned_pairs(old.text, new.text)
    if not pairs:
        return 0
    interview = store.get_interview(interview_id)
    engagement = store.get_engagement(interview.engagement_id)
    changed = False
    for heard, meant in pairs:
        entry = f"{heard}={meant}"
        if entry not in engagement.glossary:
            engagement.glossary.append(entry)
            changed = True
    if changed:
        store.save_engagement(engagement)
    proposed = 0
    for other in store.list_engagement_interviews(engagement.id):
        transcript = store.get_transcript(other.id)
        if transcript is None:
            continue
        for seg in transcript.segments:
            if other.id == interview_id and seg.id == new.id:
                continue
            updated: Segment | None = seg
            for heard, meant in pairs:
                assert updated is not None
                updated = propose(updated, heard, meant) or updated
            if updated is not None and updated != seg:
                store.update_segment(other.id, updated)
                proposed += sum(1 for c in updated.corrections if c.status == "proposed") - sum(
                    1 for c in seg.corrections if c.status == "proposed"
                )
    return proposed


def engagement_terms(store: Store, engagement_id: str, exclude: str = "") -> list[str]:
    """Terms confirmed in the engagement's other hearings: corrections kept there and the nouns
    of segments a reviewer edited."""
    from .readings import KANJI, tokens

    out: dict[str, None] = {}
    for interview in store.list_engagement_interviews(engagement_id):
        if interview.id == exclude:
            continue
        transcript = store.get_transcript(interview.id)
        if transcript is None:
            continue
        for seg in transcript.segments:
            for c in seg.corrections:
                if c.status == "applied":
                    out.setdefault(c.replacement, None)
            if SegmentFlag.EDITED in seg.flags and transcript.language.value == "ja":
                for t in tokens(seg.text):
                    if t.noun and len(t.surface) >= 2 and KANJI.search(t.surface):
                        out.setdefault(t.surface, None)
    return list(out)
