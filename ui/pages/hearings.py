"""Hearings: upload recordings, follow their processing jobs live, cancel and retry."""

from __future__ import annotations

import streamlit as st

from pipeline.models import Interview, InterviewStatus, Job, JobStatus
from pipeline.workspace import Workspace
from ui import state
from ui.actions import import_uploads, parse_roles
from ui.format import escape_md, fmt_time, job_view
from ui.i18n import t

ws = state.workspace()
st.title(t("nav_hearings"))
st.caption(t("hearings_intro"))


with st.expander(t("upload_header"), expanded=not ws.list_interviews()):
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(t("upload_files"), accept_multiple_files=True, key="files")
        c1, c2 = st.columns(2)
        title = c1.text_input(t("title"), key="up_title")
        area = c2.text_input(t("business_area"), key="up_area", placeholder="経費精算")
        roles = st.text_input(t("roles"), key="up_roles", placeholder="経理担当, 課長")
        submitted = st.form_submit_button(t("upload_submit"), type="primary")
    if submitted:
        if not files:
            st.warning(t("upload_none"))
        else:
            queued, errors = import_uploads(
                ws, files, title.strip(), area.strip(), parse_roles(roles)
            )
            if queued:
                state.launch_worker(ws)
                st.session_state["upload_ok"] = len(queued)
            st.session_state["upload_errors"] = errors

for name, exc in st.session_state.pop("upload_errors", []):
    st.error(t("upload_failed", name=name), icon="⚠️")
    state.show_error(exc)
    st.caption(t("upload_kept"))
if n := st.session_state.pop("upload_ok", 0):
    st.success(t("upload_queued", n=n), icon="✅")


def latest_jobs(ws: Workspace) -> dict[str, Job]:
    out: dict[str, Job] = {}
    for job in ws.list_jobs():  # oldest first: the last one wins
        out[job.interview_id] = job
    return out


STATUS_BADGE = {
    InterviewStatus.UPLOADED: "⏳",
    InterviewStatus.TRANSCRIBING: "🎧",
    InterviewStatus.TRANSCRIBED: "📜",
    InterviewStatus.EXTRACTING: "🧠",
    InterviewStatus.EXTRACTED: "✅",
    InterviewStatus.FAILED: "⚠️",
}


def job_line(job: Job) -> str:
    view = job_view(job)
    if view.stage == "transcribing":
        text = t("job_transcribing", done=view.minutes_done, total=view.minutes_total)
    elif view.stage == "extracting":
        text = t("job_extracting", done=view.chunks_done, total=view.chunks_total)
    else:
        text = t("job_" + view.stage)
    if view.eta_s is not None:
        text += " · " + t("eta", time=fmt_time(view.eta_s))
    return text


def interview_card(ws: Workspace, interview: Interview, job: Job | None) -> None:
    counts = {}
    if interview.status == InterviewStatus.EXTRACTED or job is None or not _active(job):
        elements = ws.list_elements(interview.id)
        counts = {k: sum(1 for e in elements if e.kind == k) for k in ("task", "judgment")}
        counts["all"] = len(elements)
    with st.container(border=True):
        head, actions = st.columns([5, 2])
        with head:
            roles = ", ".join(interview.interviewee_roles) or "–"
            st.markdown(
                f"**{STATUS_BADGE[interview.status]} {escape_md(interview.title)}**  \n"
                f"{escape_md(interview.business_area or '–')} · {escape_md(roles)}"
                f" · {t('status_' + interview.status.value)}"
            )
            if job is not None and _active(job):
                st.progress(min(max(job.progress, 0.0), 1.0), text=job_line(job))
            elif counts:
                st.caption(t("element_counts", **counts))
        with actions:
            if job is not None and _active(job):
                if st.button(t("cancel"), key=f"cancel_{job.id}"):
                    ws.cancel_job(job.id)
                    st.rerun()
            elif job is not None and job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
                if st.button(t("retry"), key=f"retry_{job.id}", type="primary"):
                    ws.retry_job(job.id)
                    state.launch_worker(ws)
                    st.rerun()
            elif (
                job is None
                and interview.status == InterviewStatus.FAILED
                and st.button(t("retry"), key=f"retry_iv_{interview.id}", type="primary")
            ):
                ws.enqueue(interview.id)
                state.launch_worker(ws)
                st.rerun()
            if _has_transcript(ws, interview) and st.button(
                t("open_transcript"), key=f"tr_{interview.id}"
            ):
                st.session_state["transcript_interview"] = interview.id
                st.switch_page("ui/pages/transcript.py")
        error = (job.error if job and job.status == JobStatus.FAILED else None) or (
            interview.error if interview.status == InterviewStatus.FAILED else None
        )
        if error:
            state.show_error(error)


def _has_transcript(ws: Workspace, interview: Interview) -> bool:
    if interview.status in (InterviewStatus.UPLOADED, InterviewStatus.TRANSCRIBING):
        return False
    if interview.status == InterviewStatus.FAILED:
        return ws.get_transcript(interview.id) is not None
    return True


def _active(job: Job) -> bool:
    return job.status in (JobStatus.QUEUED, JobStatus.RUNNING)


def render_list() -> None:
    interviews = ws.list_interviews()
    if not interviews:
        st.info(t("no_hearings"))
        return
    latest = latest_jobs(ws)
    active = [j for j in latest.values() if _active(j)]
    if active:
        st.caption(t("jobs_active", n=len(active)))
    elif has_active:
        st.rerun(scope="app")  # the last job finished: refresh everything, stop polling
    for interview in reversed(interviews):
        interview_card(ws, interview, latest.get(interview.id))


has_active = any(_active(j) for j in latest_jobs(ws).values())  # the same test as the list
st.subheader(t("hearings_list"))
st.fragment(render_list, run_every=2.0 if has_active else None)()
