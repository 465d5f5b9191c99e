"""Small pure helpers for display: times, job progress, markdown escaping, evidence context."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.align import spans_of
from pipeline.models import Evidence, Job, JobStatus, Segment, Transcript, utcnow

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$:])")


def escape_md(text: str) -> str:
    """Escape characters that Streamlit markdown would interpret (including :color[...])."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def fmt_time(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "–"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def audio_mime(path: Path) -> str:
    ext = path.suffix.lower()
    known = {".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".m4a": "audio/mp4"}
    return known.get(ext) or mimetypes.guess_type(path.name)[0] or "audio/wav"


# --------------------------------------------------------------------------- jobs

_TRANSCRIBING = re.compile(r"transcribing ([\d.]+)/([\d.]+) min")
_EXTRACTING = re.compile(r"extracting chunk (\d+)/(\d+)")


@dataclass
class JobView:
    stage: str  # queued / transcribing / extracting / done / failed / cancelled
    minutes_done: float | None = None
    minutes_total: float | None = None
    chunks_done: int | None = None
    chunks_total: int | None = None
    eta_s: float | None = None


def job_view(job: Job, now: datetime | None = None) -> JobView:
    """What a job is doing, from its progress message and timing."""
    view = JobView(stage=job.status.value)
    if job.status == JobStatus.RUNNING:
        view.stage = "running"
        if m := _TRANSCRIBING.search(job.message):
            view.stage = "transcribing"
            view.minutes_done, view.minutes_total = float(m.group(1)), float(m.group(2))
        elif m := _EXTRACTING.search(job.message):
            view.stage = "extracting"
            view.chunks_done, view.chunks_total = int(m.group(1)), int(m.group(2))
        if job.started_at and job.progress >= 0.02:
            elapsed = ((now or utcnow()) - job.started_at).total_seconds()
            view.eta_s = max(0.0, elapsed * (1 - job.progress) / job.progress)
    return view


# --------------------------------------------------------------------------- evidence


@dataclass
class ContextLine:
    segment: Segment
    before: str  # text before the highlighted part
    highlight: str
    after: str


def evidence_context(transcript: Transcript, ev: Evidence, around: int = 1) -> list[ContextLine]:
    """The evidence's segments with the quoted span marked, plus ``around`` segments each side.

    The highlight comes from the per-segment spans, so a correction of another segment never
    moves it; an unaligned quote shows the segments it names, with nothing marked (its words
    were not found, so no words are pointed at)."""
    segs = transcript.segments
    spans = {s.segment_id: s for s in spans_of(ev, transcript)} if ev.grounded else {}
    if spans:
        hit = [i for i, s in enumerate(segs) if s.id in spans]
    else:
        ids = set(ev.segment_ids)
        hit = [i for i, s in enumerate(segs) if s.id in ids]
    if not hit:
        return []
    lo, hi = max(0, hit[0] - around), min(len(segs) - 1, hit[-1] + around)
    lines = []
    for i in range(lo, hi + 1):
        seg = segs[i]
        text = seg.text
        if seg.id in spans:
            s, e = min(spans[seg.id].start, len(text)), min(spans[seg.id].end, len(text))
            lines.append(ContextLine(seg, text[:s], text[s:e], text[e:]))
        else:  # context, or the segment an unaligned quote was last seen in: nothing marked
            lines.append(ContextLine(seg, text, "", ""))
    return lines


def context_markdown(line: ContextLine, who: str = "") -> str:
    body = escape_md(line.before)
    if line.highlight:
        body += f":orange-background[**{escape_md(line.highlight)}**]"
    body += escape_md(line.after)
    who = escape_md(who or line.segment.speaker)
    return f"`{fmt_time(line.segment.start)}` {who}: {body}"
