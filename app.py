"""Shikumi: the Streamlit app. UI only: pages in ui/pages call ``pipeline``, never an SDK.

Run with ``make run`` (loads the sample hearings and starts a background worker first).
"""

from __future__ import annotations

import streamlit as st

from pipeline.errors import ShikumiError
from ui import state
from ui.i18n import LANGUAGES, current_language, t

st.set_page_config(page_title="Shikumi", page_icon="🧭", layout="wide")

try:
    ws = state.workspace()
except ShikumiError as exc:
    state.show_error(exc)
    st.stop()

if "lang" not in st.session_state:
    st.session_state["lang"] = ws.settings.ui_language
if request := st.session_state.pop("lang_request", None):
    st.session_state["lang"] = request  # from the settings page, applied before the widget

user = state.current_user(ws)  # the login form, when the workspace has users

pages = [  # (name, page): a role reaches the pages named in pipeline.auth.PAGES
    ("hearings", st.Page("ui/pages/hearings.py", title=t("nav_hearings"), icon="🎙️",
                         url_path="hearings", default=user.may("hearings"))),
    ("transcript", st.Page("ui/pages/transcript.py", title=t("nav_transcript"), icon="📜",
                           url_path="transcript")),
    ("review", st.Page("ui/pages/review.py", title=t("nav_review"), icon="✅", url_path="review")),
    ("flow", st.Page("ui/pages/flow.py", title=t("nav_flow"), icon="🗺️", url_path="flow")),
    ("engagement", st.Page("ui/pages/engagement.py", title=t("nav_engagement"), icon="🗂️",
                            url_path="engagement")),
    ("assistant", st.Page("ui/pages/assistant.py", title=t("nav_assistant"), icon="💬",
                          url_path="assistant")),
    ("settings", st.Page("ui/pages/settings.py", title=t("nav_settings"), icon="⚙️",
                         url_path="settings")),
]  # fmt: skip
page = st.navigation([p for name, p in pages if user.may(name)])

with st.sidebar:
    st.radio(
        t("language"),
        options=list(LANGUAGES),
        format_func=lambda code: LANGUAGES[code],
        key="lang",
        horizontal=True,
    )
    if ws.has_users():
        st.caption(t("signed_in_as", name=user.name, role=t(f"role_{user.role}")))
        st.button(t("logout"), on_click=state.logout)
    else:  # the embedded single-user default: no login, the reviewer's name is typed here
        st.text_input(t("reviewer"), value=ws.settings.reviewer, key="reviewer")
    st.caption(f"{t('workspace')}: `{ws.settings.workspace}`")

state.resume_jobs(ws)
current_language()
page.run()
