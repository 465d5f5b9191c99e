"""What the pages do to the workspace, as plain functions (testable without a browser)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline import correction, jobs
from pipeline.errors import ShikumiError
from pipeline.learning import learn_from_edit
from pipeline.models import Interview, Segment, SegmentFlag, Transcript
from pipeline.workspace import Workspace


class Upload(Protocol):
    name: str

    def getvalue(self) -> bytes: ...


def import_uploads(
    ws: Workspace, files: Sequence[Upload], title: str, area: str, roles: list[str]
) -> tuple[list[Interview], list[tuple[str, ShikumiError]]]:
    """Each file becomes an interview and a queued job. A bad file is kept and reported."""
    queued: list[Interview] = []
    errors: list[tuple[str, ShikumiError]] = []
    for n, up in enumerate(files, start=1):
        name = Path(up.name).name or f"upload_{n}"
        item_title = title if len(files) == 1 else (f"{title} ({n})" if title else "")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(up.getvalue())
            try:
                interview = ws.import_audio(path, item_title or Path(name).stem, area, roles)
            except ShikumiError as exc:
                errors.append((name, exc))
                continue
        jobs.enqueue(ws.store, interview.id)
        queued.append(interview)
    return queued, errors


def parse_roles(text: str) -> list[str]:
    return [r.strip() for r in text.replace("、", ",").split(",") if r.strip()]


def _edited(seg: Segment, **changes: Any) -> Segment:
    new = seg.model_copy(update=changes)
    if SegmentFlag.EDITED not in new.flags:
        new.flags = [*new.flags, SegmentFlag.EDITED]
    return new


def save_corrections(ws: Workspace, transcript: Transcript, rows: Iterable[dict[str, Any]]) -> int:
    """Apply edited segment rows ({id, speaker, text}); return how many segments changed."""
    by_id = {s.id: s for s in transcript.segments}
    changed = 0
    for row in rows:
        seg = by_id.get(str(row.get("id")))
        if seg is None:
            continue
        text = str(row.get("text") or "").strip()
        speaker = str(row.get("speaker") or "").strip()
        if not text or (text == seg.text and speaker == seg.speaker):
            continue  # an emptied segment is ignored: it would shift every later evidence span
        new = _edited(seg, text=text, speaker=speaker)
        ws.store.update_segment(transcript.interview_id, new)
        if text != seg.text:  # the same fix is proposed across the engagement
            learn_from_edit(ws.store, transcript.interview_id, seg, new)
        changed += 1
    return changed


def rename_speaker(ws: Workspace, transcript: Transcript, old: str, new: str) -> int:
    new = new.strip()
    if not new or new == old:
        return 0
    changed = 0
    for seg in transcript.segments:
        if seg.speaker == old:
            ws.store.update_segment(transcript.interview_id, _edited(seg, speaker=new))
            changed += 1
    return changed


def revert_correction(ws: Workspace, interview_id: str, seg: Segment, index: int) -> None:
    """Undo an automatic correction (or dismiss a proposed one)."""
    ws.store.update_segment(interview_id, correction.revert(seg, index))


def accept_correction(ws: Workspace, interview_id: str, seg: Segment, index: int) -> None:
    """Apply a correction proposed from a review elsewhere in the engagement."""
    ws.store.update_segment(interview_id, correction.accept(seg, index))
