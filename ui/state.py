"""Where the app gets its workspace, starts the background worker and shows errors.

Tests inject a workspace built on fakes through :data:`WORKSPACE_OVERRIDE` and replace
:func:`start_worker` so no real model process starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from pipeline import jobs
from pipeline.auth import AuthError, User, check_login, local_admin
from pipeline.errors import ShikumiError
from pipeline.models import JobStatus
from pipeline.settings import SETTINGS_FILE, load_settings
from pipeline.workspace import Workspace

from .i18n import t

WORKSPACE_OVERRIDE: Workspace | None = None


def _ensure_worker(ws: Workspace) -> None:
    if ws.settings.local_worker:  # off when worker machines serve a shared queue
        jobs.ensure_worker(ws.settings.workspace)


start_worker: Callable[[Workspace], None] = _ensure_worker


@st.cache_resource(show_spinner=False, max_entries=4)
def _cached_workspace(path: str, stamp: float) -> Workspace:
    return Workspace(load_settings(path))


def _settings_stamp(workspace: Path) -> float:
    f = workspace / SETTINGS_FILE
    return f.stat().st_mtime if f.exists() else 0.0


def workspace() -> Workspace:
    """The workspace of this app (cached; rebuilt when the settings file changes)."""
    if WORKSPACE_OVERRIDE is not None:
        return WORKSPACE_OVERRIDE
    base = load_settings()
    return _cached_workspace(str(base.workspace), _settings_stamp(base.workspace))


def launch_worker(ws: Workspace) -> None:
    start_worker(ws)


def resume_jobs(ws: Workspace) -> None:
    """Once per session: jobs queued (or left running by a dead worker) get a worker."""
    if st.session_state.get("_resumed"):
        return
    st.session_state["_resumed"] = True
    pending = ws.list_jobs(JobStatus.QUEUED) + ws.list_jobs(JobStatus.RUNNING)
    if not pending or jobs.worker_alive(ws.settings.workspace):
        return
    ws.recover_jobs()
    launch_worker(ws)


USER = "user"  # session_state: the signed-in user's name


def current_user(ws: Workspace) -> User:
    """The signed-in user. Without users in the workspace (the embedded default) everyone is
    the one local admin; otherwise the login form is shown and the page stops there."""
    if not ws.has_users():
        return local_admin(str(st.session_state.get("reviewer") or ws.settings.reviewer))
    name = st.session_state.get(USER)
    user = ws.get_user(str(name)) if name else None
    if user is not None:
        return user
    st.session_state.pop(USER, None)
    user = login_form(ws)
    if user is None:
        st.stop()
        raise AssertionError("unreachable")  # st.stop() ends the script run
    return user


def login_form(ws: Workspace) -> User | None:
    """The login form; the user once their password is right (the form is then removed)."""
    holder = st.empty()
    with holder.container():
        st.title(t("login_title"))
        with st.form("login"):
            name = st.text_input(t("user_name"), key="login_name")
            password = st.text_input(t("password"), type="password", key="login_password")
            submitted = st.form_submit_button(t("login"), type="primary")
        if not submitted:
            return None
        try:
            user = check_login(ws.get_user(name.strip()), password)
        except AuthError as exc:
            show_error(exc)
            return None
    holder.empty()
    st.session_state[USER] = user.name
    return user


def logout() -> None:
    st.session_state.pop(USER, None)


def reviewer_name(ws: Workspace) -> str:
    """Who a review action is recorded as: the signed-in user (never an operator)."""
    user = current_user(ws)
    if not user.reviews:
        raise AuthError(
            f"{user.name} ({user.role}) may not change elements.",
            "Ask a consultant or an admin to review it.",
        )
    return user.name


def split_error(text: str) -> tuple[str, str]:
    """A stored error string is ``message\\n→ hint`` (see ShikumiError.__str__)."""
    message, _, hint = text.partition("\n→ ")
    return message.strip(), hint.strip()


def show_error(exc: ShikumiError | str) -> None:
    if isinstance(exc, ShikumiError):
        message, hint = exc.message, exc.hint
    else:
        message, hint = split_error(exc)
    st.error(message, icon="⚠️")
    if hint:
        st.info(f"{t('what_to_do')}: {hint}", icon="💡")
