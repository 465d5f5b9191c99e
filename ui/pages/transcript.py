"""Transcript: segments with time, speaker and quality flags; play from any segment; correct."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline.models import SegmentFlag
from ui import state
from ui.actions import (
    accept_correction,
    rename_speaker,
    revert_correction,
    save_corrections,
)
from ui.components import audio_player, request_play, speaker_label
from ui.format import escape_md, fmt_time
from ui.i18n import t

PAGE_SIZE = 40
FLAG_ICON = {
    SegmentFlag.LOW_CONFIDENCE: "⚠️",
    SegmentFlag.NO_SPEECH: "🔇",
    SegmentFlag.REPETITION: "🔁",
    SegmentFlag.EDITED: "✏️",
}

ws = state.workspace()
st.title(t("nav_transcript"))

with_transcript = [i for i in ws.list_interviews() if ws.get_transcript(i.id)]
if not with_transcript:
    st.info(t("no_transcripts"))
    st.stop()

ids = [i.id for i in with_transcript]
wanted = st.query_params.get("interview") or st.session_state.get("transcript_interview")
if wanted in ids and st.session_state.get("tr_select") != wanted:
    st.session_state["tr_select"] = wanted
titles = {i.id: i.title for i in with_transcript}
iid = st.selectbox(t("interview"), ids, format_func=lambda i: titles[i], key="tr_select")
st.session_state["transcript_interview"] = iid
interview = ws.get_interview(iid)
transcript = ws.get_transcript(iid)
assert transcript is not None

flagged = sum(1 for s in transcript.segments if set(s.flags) - {SegmentFlag.EDITED})
st.caption(
    t(
        "transcript_meta",
        n=len(transcript.segments),
        duration=fmt_time(transcript.duration),
        model=transcript.model or "–",
        flagged=flagged,
    )
)
audio_player(ws, interview)

c1, c2, c3 = st.columns([2, 2, 3])
only_flagged = c1.toggle(t("only_flagged"), key="tr_flagged")
edit_mode = c2.toggle(t("edit_mode"), key="tr_edit")
segments = [
    s for s in transcript.segments if not only_flagged or set(s.flags) - {SegmentFlag.EDITED}
]
pages = max(1, (len(segments) + PAGE_SIZE - 1) // PAGE_SIZE)
page = int(c3.number_input(t("page_of", n=pages), 1, pages, 1, key=f"tr_page_{iid}")) - 1
shown = segments[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]


if edit_mode:
    frame = pd.DataFrame(
        [
            {
                "id": s.id,
                "time": fmt_time(s.start),
                "speaker": s.speaker,
                "text": s.text,
                "flags": " ".join(FLAG_ICON[f] for f in s.flags),
            }
            for s in shown
        ]
    )
    edited = st.data_editor(
        frame,
        key=f"tr_editor_{iid}_{page}",
        hide_index=True,
        disabled=["id", "time", "flags"],
        width="stretch",
        column_config={
            "speaker": st.column_config.TextColumn(t("speaker")),
            "text": st.column_config.TextColumn(t("text"), width="large"),
        },
    )
    if st.button(t("save_corrections"), type="primary", key="tr_save"):
        lost: list[str] = []
        rows = edited.to_dict("records")
        n = save_corrections(ws, transcript, rows, lost, who=state.reviewer_name(ws))
        st.session_state["tr_saved"], st.session_state["tr_lost"] = n, lost
        st.rerun()
    with st.form("rename_speaker"):
        st.markdown(f"**{t('rename_speaker')}**")
        speakers = sorted({s.speaker for s in transcript.segments if s.speaker})
        r1, r2 = st.columns(2)
        old = r1.selectbox(t("speaker"), speakers or [""], key="rn_old")
        new_name = r2.text_input(t("new_name"), key="rn_new")
        if st.form_submit_button(t("rename")):
            st.session_state["tr_saved"] = rename_speaker(ws, transcript, old, new_name)
            st.rerun()
else:
    for seg in shown:
        row = st.columns([1, 10])
        if row[0].button(fmt_time(seg.start), key=f"seg_{seg.id}", help=t("play_here")):
            request_play(iid, seg.start)
            st.rerun()
        icons = " ".join(FLAG_ICON[f] for f in seg.flags)
        text = escape_md(seg.text)
        for c in seg.corrections:
            if c.status == "applied" and c.replacement in seg.text:
                text = text.replace(
                    escape_md(c.replacement), f":blue-background[{escape_md(c.replacement)}]", 1
                )
        problem = set(seg.flags) - {SegmentFlag.EDITED}
        if problem:
            text = f":orange-background[{text}]"
        who = f"**{escape_md(speaker_label(seg.speaker))}**: " if seg.speaker else ""
        row[1].markdown(f"{who}{text} {icons}")

corrected = [s for s in transcript.segments if s.corrections]
if corrected:
    applied = sum(1 for s in corrected for c in s.corrections if c.status == "applied")
    proposed = sum(1 for s in corrected for c in s.corrections if c.status != "applied")
    with st.expander(t("corrections_header", n=applied, p=proposed), expanded=proposed > 0):
        for seg in corrected:
            for k, c in enumerate(seg.corrections):
                row = st.columns([1, 7, 1, 1])
                if row[0].button(fmt_time(seg.start), key=f"cplay_{seg.id}_{k}"):
                    request_play(iid, seg.start)
                    st.rerun()
                if c.status == "applied":
                    score = f", +{c.score:.1f}" if c.score is not None else ""
                    row[1].markdown(
                        escape_md(
                            t(
                                "correction_row",
                                original=c.original,
                                replacement=c.replacement,
                                source=t("source_" + c.source),
                                score=score,
                            )
                        )
                    )
                    if row[2].button(t("revert"), key=f"crev_{seg.id}_{k}"):
                        revert_correction(ws, iid, seg, k)
                        st.session_state["tr_corr"] = t("correction_reverted")
                        st.rerun()
                else:
                    row[1].markdown(
                        escape_md(
                            t("correction_proposed", original=c.original, replacement=c.replacement)
                        )
                    )
                    if row[2].button(t("apply"), key=f"cacc_{seg.id}_{k}"):
                        accept_correction(ws, iid, seg, k)
                        st.session_state["tr_corr"] = t("correction_applied")
                        st.rerun()
                    if row[3].button(t("dismiss"), key=f"cdis_{seg.id}_{k}"):
                        revert_correction(ws, iid, seg, k)
                        st.rerun()
if msg := st.session_state.pop("tr_corr", ""):
    st.success(msg)

if n := st.session_state.pop("tr_saved", 0):
    st.success(t("corrections_saved", n=n), icon="✏️")
if lost_ids := st.session_state.pop("tr_lost", []):
    st.warning(t("evidence_lost", n=len(lost_ids), ids=", ".join(lost_ids)), icon="🔴")

edited_count = sum(1 for s in transcript.segments if SegmentFlag.EDITED in s.flags)
if edited_count:
    st.divider()
    st.markdown(t("reextract_hint", n=edited_count))
    if st.button(t("reextract"), key="tr_reextract"):
        ws.enqueue(iid, "process")
        state.launch_worker(ws)
        st.session_state["upload_ok"] = 1
        st.switch_page("ui/pages/hearings.py")
with st.expander(t("flag_legend")):
    for flag, icon in FLAG_ICON.items():
        st.markdown(f"{icon} {t('flag_' + flag.value)}")
