"""Review: every extracted element, grouped and filtered, with its evidence, edits and history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline.errors import ShikumiError
from pipeline.models import ELEMENT_KINDS, AnyElement, ReviewStatus
from pipeline.review import ALLOWED
from pipeline.workspace import Workspace
from ui import state
from ui.components import (
    KIND_ICON,
    PLAY_KEY,
    STATUS_ICON,
    audio_player,
    element_flags,
    element_label,
    evidence_block,
    needs_attention,
)
from ui.editing import edit_form, forget_widgets, mark_opened
from ui.i18n import t

ws = state.workspace()
st.title(t("nav_review"))

interviews = {i.id: i for i in ws.list_interviews()}
elements = ws.list_elements()
if not elements:
    st.info(t("no_elements"))
    st.stop()

# ----------------------------------------------------------------------------- filters

wanted = st.query_params.get("element")
if wanted and st.session_state.get("_wanted_done") != wanted:
    st.session_state["_wanted_done"] = wanted
    st.session_state["detail_id"] = wanted
    for k in ("f_kind", "f_status", "f_interview", "f_attention", "f_text"):
        st.session_state.pop(k, None)  # show the element even if the filters hid it

f1, f2, f3 = st.columns([2, 2, 2])
kinds = f1.multiselect(
    t("filter_kind"), list(ELEMENT_KINDS), default=list(ELEMENT_KINDS), key="f_kind",
    format_func=lambda k: f"{KIND_ICON[k]} {t('kind_' + k)}",
)  # fmt: skip
statuses = f2.multiselect(
    t("filter_status"), [s.value for s in ReviewStatus], default=["draft", "approved"],
    key="f_status", format_func=lambda s: f"{STATUS_ICON[ReviewStatus(s)]} {t('status_' + s)}",
)  # fmt: skip
iv_options = ["", *interviews]
interview_id = f3.selectbox(
    t("interview"), iv_options, key="f_interview",
    format_func=lambda i: interviews[i].title if i else t("all_interviews"),
)  # fmt: skip
g1, g2 = st.columns([2, 4])
attention = g1.toggle(t("filter_attention"), key="f_attention", help=t("filter_attention_help"))
text = g2.text_input(t("filter_text"), key="f_text", placeholder="5万円")


def keep(el: AnyElement) -> bool:
    if el.kind not in kinds or el.status.value not in statuses:
        return False
    if interview_id and el.interview_id != interview_id:
        return False
    if attention and not needs_attention(el):
        return False
    return not text or text.lower() in el.model_dump_json().lower()


shown = [e for e in elements if keep(e)]
attention_n = sum(1 for e in elements if needs_attention(e))
m = st.columns(5)
m[0].metric(t("shown"), len(shown))
m[1].metric(t("status_draft"), sum(e.status == ReviewStatus.DRAFT for e in elements))
m[2].metric(t("status_approved"), sum(e.status == ReviewStatus.APPROVED for e in elements))
m[3].metric(t("needs_attention"), attention_n)
m[4].metric(t("interviews"), len(interviews))

# ----------------------------------------------------------------------------- grouped lists


def table(items: list[AnyElement], kind: str) -> list[str]:
    frame = pd.DataFrame(
        [
            {
                "id": e.id,
                t("col_status"): f"{STATUS_ICON[e.status]} {t('status_' + e.status.value)}",
                t("col_summary"): e.summary,
                t("col_flags"): element_flags(e),
                t("col_interview"): interviews[e.interview_id].title
                if e.interview_id in interviews
                else e.interview_id,
                "v": e.version,
            }
            for e in items
        ]
    )
    event = st.dataframe(
        frame, key=f"tbl_{kind}", hide_index=True, on_select="rerun",
        selection_mode="multi-row", width="stretch", height=min(38 + 35 * len(items), 320),
    )  # fmt: skip
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    return [items[r].id for r in rows if r < len(items)]


selected: list[str] = []
groups = [k for k in ELEMENT_KINDS if k in kinds]
if shown and groups:
    tabs = st.tabs(
        [f"{KIND_ICON[k]} {t('kind_' + k)} ({sum(e.kind == k for e in shown)})" for k in groups]
    )
    for tab, kind in zip(tabs, groups, strict=True):
        with tab:
            items = [e for e in shown if e.kind == kind]
            if items:
                selected += table(items, kind)
            else:
                st.caption(t("none_here"))
else:
    st.info(t("no_match"))

if selected and st.session_state.get("_last_sel") != selected:
    st.session_state["_last_sel"] = selected
    st.session_state["detail_id"] = selected[-1]


def run_bulk(ws: Workspace, ids: list[str], action: str) -> None:
    done, errors = 0, []
    by_id = {e.id: e for e in elements}
    for eid in ids:
        if by_id[eid].status not in ALLOWED[action]:
            errors.append(eid)
            continue
        try:
            saved = ws.reviewer.transition(eid, action, state.reviewer_name(ws))
        except ShikumiError as exc:
            errors.append(f"{eid}: {exc.message}")
            continue
        mark_opened(saved)
        done += 1
    st.session_state["bulk_result"] = (action, done, errors)


# ----------------------------------------------------------------------------- bulk actions

drafts = [e.id for e in shown if e.status == ReviewStatus.DRAFT]
with st.container(border=True):
    st.markdown(f"**{t('bulk_header')}** · {t('bulk_selected', n=len(selected))}")
    b = st.columns(4)
    if b[0].button(t("approve"), key="bulk_approve", disabled=not selected):
        run_bulk(ws, selected, "approve")
        st.rerun()
    if b[1].button(t("reject"), key="bulk_reject", disabled=not selected):
        run_bulk(ws, selected, "reject")
        st.rerun()
    if b[2].button(t("retire"), key="bulk_retire", disabled=not selected):
        run_bulk(ws, selected, "retire")
        st.rerun()
    if b[3].button(t("approve_shown_drafts", n=len(drafts)), key="bulk_drafts",
                   disabled=not drafts, type="primary"):  # fmt: skip
        run_bulk(ws, drafts, "approve")
        st.rerun()
if result := st.session_state.pop("bulk_result", None):
    action, done, errors = result
    st.success(t("bulk_done", n=done, action=t(action)), icon="✅")
    if errors:
        st.warning(t("bulk_skipped", ids=", ".join(errors)), icon="⚠️")

# ----------------------------------------------------------------------------- one element

st.divider()
ids = [e.id for e in shown]
current = st.session_state.get("detail_id")
if current and current not in ids and any(e.id == current for e in elements):
    ids = [current, *ids]  # keep the opened element even when a filter hides it
if not ids:
    st.stop()
if current not in ids:
    st.session_state["detail_id"] = ids[0]
labels = {e.id: element_label(e) for e in elements}
detail_id = st.selectbox(t("open_element"), ids, key="detail_id", format_func=labels.get)
el = ws.get_element(detail_id)
if st.session_state.get("_detail_last") != detail_id:
    st.session_state["_detail_last"] = detail_id
    st.session_state.pop(PLAY_KEY, None)  # a new element starts at its own evidence
interview = interviews.get(el.interview_id)

st.subheader(f"{KIND_ICON[el.kind]} {el.id} · {el.summary}")
info = [
    f"{STATUS_ICON[el.status]} {t('status_' + el.status.value)}",
    f"v{el.version}",
    interview.title if interview else el.interview_id,
]
if el.effective_date:
    info.append(t("effective", date=el.effective_date.isoformat()))
st.caption(" · ".join(info))
if flags := element_flags(el):
    st.warning(flags + " — " + t("attention_explain"), icon="⚠️")

a = st.columns(4)
for col, action in zip(a, ("approve", "reject", "retire", "reopen"), strict=True):
    if col.button(t(action), key=f"act_{action}", disabled=el.status not in ALLOWED[action],
                  type="primary" if action == "approve" else "secondary"):  # fmt: skip
        try:
            saved = ws.reviewer.transition(el.id, action, state.reviewer_name(ws))
        except ShikumiError as exc:
            st.session_state["act_error"] = exc
        else:
            forget_widgets(saved)
            mark_opened(saved)
            st.session_state["act_ok"] = (el.id, action)
        st.rerun()
if exc := st.session_state.pop("act_error", None):
    state.show_error(exc)
if ok := st.session_state.pop("act_ok", None):
    st.success(t("action_done", id=ok[0], action=t(ok[1])), icon="✅")

left, right = st.columns([3, 2])
with left:
    st.markdown(f"**{t('evidence')}**")
    transcript = ws.get_transcript(el.interview_id)
    if not el.evidence:
        st.warning(t("no_evidence"), icon="🔴")
    for n, ev in enumerate(el.evidence):
        evidence_block(ev, transcript, el.interview_id, key=f"{el.id}_{n}")
    if interview is not None:
        start = next((e.audio_start for e in el.evidence if e.audio_start is not None), 0.0)
        audio_player(ws, interview, default_start=start or 0.0)
with right:
    st.markdown(f"**{t('edit')}**")
    edit_form(ws, el)

with st.expander(t("history", n=len(el.history))):
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("col_when"): h.at.strftime("%Y-%m-%d %H:%M"),
                    t("col_who"): h.who,
                    t("col_action"): h.action,
                    "v": h.version,
                    t("col_changes"): "; ".join(
                        f"{k}: {v.get('from')!s:.40} → {v.get('to')!s:.40}"
                        if isinstance(v, dict)
                        else f"{k}: {v}"
                        for k, v in h.changes.items()
                    ),
                    t("col_note"): h.note,
                }
                for h in el.history
            ]
        ),
        hide_index=True,
        width="stretch",
    )

# ----------------------------------------------------------------------------- follow-ups

st.divider()
st.subheader(t("followups"))
try:
    from pipeline import followups  # another stage, built separately: degrade if absent
except ImportError:
    followups = None  # type: ignore[assignment]
if followups is None:
    st.caption(t("followups_unavailable"))
else:
    from ui.followups_view import render_followups

    render_followups(ws, followups, interview_id or None)
