"""Pieces shared by several pages: audio player, element badges, evidence in its context."""

from __future__ import annotations

import streamlit as st

from pipeline.models import AnyElement, Evidence, Interview, ReviewStatus, Transcript
from pipeline.workspace import Workspace

from .format import audio_mime, context_markdown, escape_md, evidence_context, fmt_time
from .i18n import t

STATUS_ICON = {
    ReviewStatus.DRAFT: "📝",
    ReviewStatus.APPROVED: "✅",
    ReviewStatus.REJECTED: "⛔",
    ReviewStatus.RETIRED: "🗄️",
}
KIND_ICON = {"task": "🔧", "judgment": "🔀", "exception": "⚡", "finding": "🔎"}

PLAY_KEY = "play"  # session_state: {"interview_id": ..., "start": seconds}


def request_play(interview_id: str, start: float | None) -> None:
    st.session_state[PLAY_KEY] = {"interview_id": interview_id, "start": start or 0.0}


def audio_player(ws: Workspace, interview: Interview, default_start: float = 0.0) -> None:
    """The interview's audio, starting where the last ▶ button asked (or ``default_start``)."""
    play = st.session_state.get(PLAY_KEY) or {}
    start = play["start"] if play.get("interview_id") == interview.id else default_start
    try:
        path = ws.audio_file(interview)
    except Exception:
        st.caption(t("no_audio"))
        return
    if not path.exists():
        st.caption(t("no_audio"))
        return
    st.audio(str(path), format=audio_mime(path), start_time=int(start))
    if start:
        st.caption(t("playing_from", time=fmt_time(start)))


def speaker_label(name: str) -> str:
    """The transcriber's role labels in the UI language; names given by reviewers as they are."""
    return t("speaker_" + name) if name in ("interviewer", "interviewee") else name


UNSURE_BELOW = 0.6  # the extraction model's label probability under which review is prompted


def needs_attention(el: AnyElement) -> bool:
    """Ungrounded, resting on a low-confidence segment, or of a kind the model was unsure of."""
    unsure = el.confidence is not None and el.confidence < UNSURE_BELOW
    return not el.grounded or el.low_confidence or unsure


def element_flags(el: AnyElement) -> str:
    flags = []
    if not el.grounded:
        flags.append("❗" + t("ungrounded"))
    if el.low_confidence:
        flags.append("⚠️" + t("low_confidence"))
    if el.confidence is not None and el.confidence < UNSURE_BELOW:
        flags.append("🤔" + t("model_unsure", p=f"{el.confidence:.0%}"))
    if el.status == ReviewStatus.DRAFT:  # what a reviewer should check, until it is reviewed
        if el.filled_by == "meaning":
            flags.append("🧭" + t("found_by_meaning"))
        elif el.filled_by == "cues" and el.kind != "finding":
            flags.append("📋" + t("filled_by_cues"))
    return " ".join(flags)


def element_label(el: AnyElement) -> str:
    return f"{STATUS_ICON[el.status]} {KIND_ICON[el.kind]} {el.id} · {el.summary}"


def evidence_block(
    ev: Evidence, transcript: Transcript | None, interview_id: str, key: str
) -> None:
    """One piece of evidence: the quote highlighted in its transcript context, with ▶."""
    cols = st.columns([6, 1])
    with cols[0]:
        badge = {"exact": "🟢", "fuzzy": "🟡", "unaligned": "🔴"}[ev.alignment.value]
        meta = f"{badge} {t('alignment_' + ev.alignment.value)} · {ev.score:.2f}"
        if ev.speaker:
            meta += f" · {escape_md(speaker_label(ev.speaker))}"
        if ev.audio_start is not None:
            meta += f" · {fmt_time(ev.audio_start)}"
        if ev.low_confidence:
            meta += " · ⚠️" + t("low_confidence")
        st.markdown(f"> 「{escape_md(ev.quote)}」  \n{meta}")
    with cols[1]:
        if ev.audio_start is not None and st.button("▶", key=f"play_{key}", help=t("play_here")):
            request_play(interview_id, ev.audio_start)
    if not ev.grounded:
        st.warning(t("unaligned_explain"), icon="🔴")
    if transcript is None:
        return
    lines = evidence_context(transcript, ev)
    if lines:
        st.markdown(
            "  \n".join(context_markdown(ln, speaker_label(ln.segment.speaker)) for ln in lines)
        )
