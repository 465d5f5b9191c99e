"""Transcript exports: TXT (readable, with times and speakers), SRT, VTT and JSON (segments and
words). Quality flags are kept visible in TXT and JSON so a reader knows what to check."""

from __future__ import annotations

import json
from typing import Literal

from .models import Transcript

Format = Literal["txt", "srt", "vtt", "json"]
FORMATS: tuple[Format, ...] = ("txt", "srt", "vtt", "json")


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_txt(tr: Transcript) -> str:
    lines = []
    for seg in tr.segments:
        m, s = divmod(int(seg.start), 60)
        flags = f"  [{', '.join(f.value for f in seg.flags)}]" if seg.flags else ""
        who = f"{seg.speaker}: " if seg.speaker else ""
        lines.append(f"[{m:02d}:{s:02d}] {who}{seg.text}{flags}")
    return "\n".join(lines) + "\n"


def to_srt(tr: Transcript) -> str:
    blocks = []
    for i, seg in enumerate(tr.segments, 1):
        who = f"[{seg.speaker}] " if seg.speaker else ""
        span = f"{_clock(seg.start, ',')} --> {_clock(seg.end, ',')}"
        blocks.append(f"{i}\n{span}\n{who}{seg.text}\n")
    return "\n".join(blocks)


def to_vtt(tr: Transcript) -> str:
    blocks = ["WEBVTT\n"]
    for seg in tr.segments:
        text = seg.text.replace("-->", "→")
        body = f"<v {seg.speaker}>{text}" if seg.speaker else text
        span = f"{_clock(seg.start, '.')} --> {_clock(seg.end, '.')}"
        blocks.append(f"{seg.id}\n{span}\n{body}\n")
    return "\n".join(blocks)


def to_json(tr: Transcript) -> str:
    return json.dumps(tr.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def export(tr: Transcript, fmt: str) -> str:
    from .errors import ShikumiError

    writers = {"txt": to_txt, "srt": to_srt, "vtt": to_vtt, "json": to_json}
    if fmt not in writers:
        raise ShikumiError(f"Unknown export format '{fmt}'.", f"Use one of: {', '.join(FORMATS)}.")
    return writers[fmt](tr)
