"""What the pages do to the workspace, as plain functions (testable without a browser)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline import correction
from pipeline.errors import ShikumiError
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
        ws.enqueue(interview.id)
        queued.append(interview)
    return queued, errors


def parse_roles(text: str) -> list[str]:
    return [r.strip() for r in text.replace("、", ",").split(",") if r.strip()]


def _edited(seg: Segment, **changes: Any) -> Segment:
    new = seg.model_copy(update=changes)
    if SegmentFlag.EDITED not in new.flags:
        new.flags = [*new.flags, SegmentFlag.EDITED]
    return new


def save_corrections(
    ws: Workspace,
    transcript: Transcript,
    rows: Iterable[dict[str, Any]],
    lost: list[str] | None = None,
    who: str = "",
) -> int:
    """Apply edited segment rows ({id, speaker, text}); return how many segments changed.

    Each correction re-anchors the evidence quoting the segment (``Reviewer.correct_segment``);
    the ids of elements whose quote is no longer found are added to ``lost``."""
    by_id = {s.id: s for s in transcript.segments}
    changed = 0
    for row in rows:
        seg = by_id.get(str(row.get("id")))
        if seg is None:
            continue
        text = str(row.get("text") or "").strip()
        speaker = str(row.get("speaker") or "").strip()
        if not text or (text == seg.text and speaker == seg.speaker):
            continue  # an emptied segment is ignored: correct its words instead
        result = ws.reviewer.correct_segment(
            transcript.interview_id, seg.id, text, who or ws.settings.reviewer, speaker=speaker
        )
        if lost is not None:
            lost += [i for i in result.lost if i not in lost]
        if text != seg.text:  # the same fix is proposed across the engagement
            ws.learn_from_edit(transcript.interview_id, seg, _edited(seg, text=text))
        changed += 1
    return changed


def rename_speaker(ws: Workspace, transcript: Transcript, old: str, new: str) -> int:
    new = new.strip()
    if not new or new == old:
        return 0
    changed = 0
    for seg in transcript.segments:
        if seg.speaker == old:
            ws.update_segment(transcript.interview_id, _edited(seg, speaker=new))
            changed += 1
    return changed


def revert_correction(ws: Workspace, interview_id: str, seg: Segment, index: int) -> None:
    """Undo an automatic correction (or dismiss a proposed one)."""
    ws.update_segment(interview_id, correction.revert(seg, index))


def accept_correction(ws: Workspace, interview_id: str, seg: Segment, index: int) -> None:
    """Apply a correction proposed from a review elsewhere in the engagement."""
    ws.update_segment(interview_id, correction.accept(seg, index))
