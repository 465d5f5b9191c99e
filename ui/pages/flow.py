"""Flow: the procedure drawn as a Graphviz flow; click a node (or pick it below) to open it."""

from __future__ import annotations

import streamlit as st

from pipeline.models import ReviewStatus
from ui import state
from ui.components import element_label
from ui.flowgraph import build_dot
from ui.i18n import t

ws = state.workspace()
st.title(t("nav_flow"))

interviews = {i.id: i for i in ws.list_interviews()}
elements = ws.list_elements()
if not elements:
    st.info(t("no_elements"))
    st.stop()

c1, c2, c3 = st.columns([3, 2, 2])
with_elements = [i for i in interviews if any(e.interview_id == i for e in elements)]
wanted = st.query_params.get("interview", "")
options = ["", *with_elements]
default = options.index(wanted) if wanted and wanted in options else (1 if with_elements else 0)
if wanted == "all":
    default = 0
iid = c1.selectbox(
    t("interview"), options, key="flow_interview", index=default,
    format_func=lambda i: interviews[i].title if i else t("all_interviews"),
)  # fmt: skip
only_approved = c2.toggle(t("only_approved"), key="flow_approved")
findings = c3.toggle(t("show_findings"), key="flow_findings")

hidden = {ReviewStatus.REJECTED, ReviewStatus.RETIRED}
shown = [
    e
    for e in elements
    if (not iid or e.interview_id == iid)
    and e.status not in hidden
    and (not only_approved or e.status == ReviewStatus.APPROVED)
    and (findings or e.kind != "finding")
]
if not shown:
    st.info(t("no_match"))
    st.stop()

st.caption(t("flow_legend"))
dot = build_dot(shown, interviews, show_findings=findings)
st.graphviz_chart(dot, width="stretch")
with st.expander(t("dot_source")):
    st.code(dot, language="dot")

labels = {e.id: element_label(e) for e in shown}
pick = st.selectbox(t("open_element"), list(labels), key="flow_pick", format_func=labels.get)
if st.button(t("open_in_review"), key="flow_open", type="primary"):
    st.session_state["detail_id"] = pick
    st.switch_page("ui/pages/review.py", query_params={"element": pick})
