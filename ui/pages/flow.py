"""Flow: the procedure as swimlanes (a lane per role, ◇ per judgment, exceptions below the step
they interrupt), the same layout as the BPMN export; pick a step below to open it."""

from __future__ import annotations

import streamlit as st

from pipeline.handover.assemble import assemble
from pipeline.handover.bpmn import to_bpmn
from pipeline.handover.diagram import approved_map, handover_layout, to_svg
from pipeline.inventory import consolidate
from pipeline.models import DEFAULT_ENGAGEMENT, Engagement, ReviewStatus
from ui import state
from ui.i18n import t

ws = state.workspace()
st.title(t("nav_flow"))

interviews = {i.id: i for i in ws.list_interviews()}
elements = ws.list_elements()
if not elements:
    st.info(t("no_elements"))
    st.stop()

with_elements = [i for i in interviews if any(e.interview_id == i for e in elements)]
engagements = {
    e.id: e
    for e in ws.list_engagements()
    if e.id != DEFAULT_ENGAGEMENT
    and any(interviews[i].engagement_id == e.id for i in with_elements)
}
options = [f"eng:{e}" for e in engagements] + with_elements
wanted = st.query_params.get("interview", "")
default = options.index(wanted) if wanted in options else 0
c1, c2 = st.columns([3, 2])
scope = c1.selectbox(
    t("flow_scope"), options, key="flow_interview", index=default,
    format_func=lambda o: t("flow_scope_engagement", name=engagements[o[4:]].name)
    if o.startswith("eng:") else interviews[o].title,
)  # fmt: skip
only_approved = c2.toggle(t("only_approved"), key="flow_approved")

if scope.startswith("eng:"):
    engagement = engagements[scope[4:]]
    chosen = {i for i in with_elements if interviews[i].engagement_id == engagement.id}
    decisions = ws.inventory_decisions(engagement.id)
else:
    iv = interviews[scope]
    engagement = Engagement(id=iv.engagement_id, name=iv.title, client=iv.title)
    chosen, decisions = {scope}, None
hidden = {ReviewStatus.REJECTED, ReviewStatus.RETIRED}
shown = [
    e
    for e in elements
    if e.interview_id in chosen
    and e.status not in hidden
    and (not only_approved or e.status == ReviewStatus.APPROVED)
]
if not any(e.kind in ("task", "judgment") for e in shown):
    st.info(t("no_match"))
    st.stop()

scoped = {i: interviews[i] for i in chosen}
transcripts = {i: tr for i in chosen if (tr := ws.get_transcript(i)) is not None}
inventory = consolidate(shown, scoped, engagement, decisions, transcripts)
h = assemble(engagement, scoped, shown, decisions, transcripts, True, inventory)
layout = handover_layout(h)
svg = to_svg(layout, approved_map(h))
st.caption(t("flow_swimlane_legend"))
# an iframe keeps the SVG intact (st.html sanitises SVG away) and scrolls a long flow sideways;
# every label in it is escaped text of our own elements
st.iframe(
    f'<div data-testid="shikumi-swimlane" style="overflow-x:auto">{svg}</div>',
    height=int(layout.height) + 40,
)
d1, d2, _ = st.columns([1, 1, 3])
d1.download_button(t("flow_download_bpmn"), to_bpmn(layout), file_name="flow.bpmn",
                   mime="application/xml", key="flow_bpmn")  # fmt: skip
d2.download_button(t("flow_download_svg"), svg, file_name="flow.svg", mime="image/svg+xml",
                   key="flow_svg")  # fmt: skip

labels = {}
for item in sorted(inventory.items, key=lambda i: i.order):
    for m in item.members:
        labels[m] = f"{m} · {item.name}（{item.id}）"
pick = st.selectbox(t("open_element"), list(labels), key="flow_pick", format_func=labels.get)
if st.button(t("open_in_review"), key="flow_open", type="primary"):
    st.session_state["detail_id"] = pick
    st.switch_page("ui/pages/review.py", query_params={"element": pick})
