"""Follow-up questions for the next hearing (``pipeline.followups.follow_ups``), per hearing.

The stage is imported lazily by the review page; if it is missing or fails, the page degrades
to a short note instead of breaking.
"""

from __future__ import annotations

from types import ModuleType

import streamlit as st

from pipeline.models import ReviewStatus
from pipeline.workspace import Workspace

from .format import escape_md
from .i18n import current_language, t


def render_followups(ws: Workspace, module: ModuleType, interview_id: str | None) -> None:
    follow_ups = getattr(module, "follow_ups", None)
    if follow_ups is None:
        st.caption(t("followups_unavailable"))
        return
    interviews = [i for i in ws.list_interviews() if not interview_id or i.id == interview_id]
    shown = 0
    for interview in interviews:
        elements = [
            e
            for e in ws.list_elements(interview.id)
            if e.status in (ReviewStatus.DRAFT, ReviewStatus.APPROVED)
        ]
        if not elements:
            continue
        language = interview.language.value if interview.language else current_language()
        try:
            items = list(follow_ups(elements, language))
        except Exception as exc:  # a stage built separately must not break the review page
            st.caption(f"{t('followups_unavailable')} ({type(exc).__name__}: {exc})")
            return
        if not items:
            continue
        shown += len(items)
        with st.expander(f"{interview.title} ({len(items)})", expanded=len(interviews) == 1):
            for item in items:
                eid = getattr(item, "element_id", "")
                st.markdown(f"- {escape_md(str(getattr(item, 'question', item)))} `{eid}`")
    if not shown:
        st.caption(t("followups_none"))
