"""The sample engagement (``data/samples/engagement_*``): its hearings' gold elements as real
elements, with evidence placed in the reference transcript and the audio (``turns.json``).

Used to measure consolidation and differences against the engagement's gold
(``consolidation.json``), by the tests, and by ``shikumi engagement sample`` to show the
engagement page without running the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import (
    Alignment,
    AnyElement,
    BusinessArea,
    CriterionStatus,
    Engagement,
    Evidence,
    Exception_,
    Interview,
    InterviewStatus,
    Judgment,
    Language,
    RuleRow,
    Segment,
    Task,
    Transcript,
)
from .samples import SAMPLES_DIR

if TYPE_CHECKING:
    from .store import Store

ENGAGEMENT_DIR = SAMPLES_DIR / "engagement_minato"


def engagement_spec(folder: Path = ENGAGEMENT_DIR) -> dict[str, Any]:
    return dict(json.loads((folder / "engagement.json").read_text(encoding="utf-8")))


def consolidation_gold(folder: Path = ENGAGEMENT_DIR) -> dict[str, Any]:
    return dict(json.loads((folder / "consolidation.json").read_text(encoding="utf-8")))


def engagement_of(spec: dict[str, Any]) -> Engagement:
    def area(node: dict[str, Any]) -> BusinessArea:
        return BusinessArea(name=node["name"], children=[area(c) for c in node.get("children", [])])

    return Engagement(
        id=spec["id"],
        name=spec["name"],
        client=spec.get("client", ""),
        glossary=spec.get("glossary", []),
        members=spec.get("members", []),
        areas=[area(a) for a in spec.get("areas", [])],
    )


def _name(label: str) -> str:
    return label.split("（")[0].strip()


def hearing(slug: str, engagement_id: str) -> tuple[Interview, Transcript, list[AnyElement]]:
    """One sample hearing: interview, reference transcript (one segment per turn), gold elements.

    Element ids are ``<slug>/<gold id>`` so they can be compared with the engagement's gold.
    """
    folder = SAMPLES_DIR / slug
    script = json.loads((folder / "script.json").read_text(encoding="utf-8"))
    turns_path = folder / "turns.json"
    times = json.loads(turns_path.read_text(encoding="utf-8")) if turns_path.exists() else []
    iid = f"int_{slug}"
    names = script["speakers"]
    segments = []
    for n, turn in enumerate(script["turns"]):
        t = times[n] if n < len(times) else {"start": float(n * 6), "end": float(n * 6 + 5)}
        segments.append(
            Segment(
                id=f"s{n + 1:04d}",
                start=t["start"],
                end=t["end"],
                speaker=_name(names[turn["speaker"]]),
                text=turn["text"],
            )
        )
    transcript = Transcript(
        interview_id=iid, language=Language(script["language"]), segments=segments
    )
    interview = Interview(
        id=iid,
        title=script["title"],
        engagement_id=engagement_id,
        interviewee=_name(names["interviewee"]),
        business_area=script.get("business_area", ""),
        interviewee_roles=script.get("interviewee_roles", []),
        language=Language(script["language"]),
        audio_path=str(folder / "audio.ogg"),
    )
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    spans = transcript.segment_spans()
    elements: list[AnyElement] = []
    for g in gold["elements"]:
        seg_i = next(i for i, s in enumerate(segments) if g["quote"] in s.text)
        seg = segments[seg_i]
        start = spans[seg_i][0] + seg.text.index(g["quote"])
        ev = Evidence(
            quote=g["quote"],
            segment_ids=[seg.id],
            char_start=start,
            char_end=start + len(g["quote"]),
            audio_start=seg.start,
            audio_end=seg.end,
            alignment=Alignment.EXACT,
            score=1.0,
            speaker=seg.speaker,
        )
        common: dict[str, Any] = {
            "id": f"{slug}/{g['id']}",
            "interview_id": iid,
            "summary": g["summary"],
            "evidence": [ev],
        }
        if g["kind"] == "task":
            elements.append(
                Task(
                    action=g["summary"],
                    actor=g.get("actor") or "",
                    inputs=g.get("inputs", []),
                    outputs=g.get("outputs", []),
                    systems=g.get("systems", []),
                    frequency=g.get("frequency") or "",
                    order=g.get("order"),
                    **common,
                )
            )
        elif g["kind"] == "judgment":
            elements.append(
                Judgment(
                    decision=g.get("decision", ""),
                    rules=[RuleRow(**r) for r in g.get("rules", [])],
                    decider=g.get("decider", ""),
                    criterion=CriterionStatus(g.get("criterion", "stated")),
                    **common,
                )
            )
        else:
            elements.append(
                Exception_(
                    trigger=g.get("trigger", ""),
                    handling=g.get("handling", ""),
                    owner=g.get("owner") or "",
                    frequency=g.get("frequency") or "",
                    is_routine=bool(g.get("is_routine")),
                    **common,
                )
            )
    return interview, transcript, elements


def load(
    folder: Path = ENGAGEMENT_DIR,
) -> tuple[Engagement, dict[str, Interview], dict[str, Transcript], list[AnyElement]]:
    spec = engagement_spec(folder)
    engagement = engagement_of(spec)
    interviews: dict[str, Interview] = {}
    transcripts: dict[str, Transcript] = {}
    elements: list[AnyElement] = []
    for slug in spec["hearings"]:
        iv, tr, els = hearing(slug, engagement.id)
        interviews[iv.id] = iv
        transcripts[iv.id] = tr
        elements += els
    return engagement, interviews, transcripts, elements


def load_into(store: Store, approve: bool = True) -> Engagement:
    """Put the sample engagement in a workspace from its gold (no models run): engagement,
    interviews, reference transcripts and elements (approved unless ``approve`` is False).
    Idempotent: hearings already there are left alone."""
    from .models import ReviewStatus

    engagement, interviews, transcripts, elements = load()
    store.save_engagement(engagement)
    known = {i.id for i in store.list_interviews()}
    for iid, iv in interviews.items():
        if iid in known:
            continue
        iv.status = InterviewStatus.EXTRACTED
        store.add_interview(iv)
        store.save_transcript(transcripts[iid])
        fresh = []
        for el in elements:
            if el.interview_id != iid:
                continue
            el = el.model_copy(deep=True)
            el.id = ""
            if approve:
                el.status = ReviewStatus.APPROVED
            fresh.append(el)
        store.add_elements(fresh)
    return engagement


def attach_sample(store: Store, interview: Interview, script: dict[str, Any]) -> Interview:
    """A sample hearing that belongs to the sample engagement joins it (``samples load``)."""
    eng_id = script.get("engagement")
    if not eng_id:
        return interview
    spec = engagement_spec()
    if spec["id"] == eng_id:
        store.save_engagement(engagement_of(spec))
    interview.engagement_id = eng_id
    interview.interviewee = _name(script.get("speakers", {}).get("interviewee", ""))
    return store.save_interview(interview)
