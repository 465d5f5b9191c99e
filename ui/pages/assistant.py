"""Assistant: operators ask; answers come from approved rules only, with clickable citations.
The consultant sees the questions nothing approved could answer."""

from __future__ import annotations

from collections.abc import Iterator

import streamlit as st

from pipeline.assistant import with_reply
from pipeline.errors import ShikumiError
from pipeline.models import Answer, Citation, ReviewStatus
from pipeline.workspace import Workspace
from ui import state
from ui.components import audio_player, request_play
from ui.format import escape_md, fmt_time
from ui.i18n import t

ws = state.workspace()
user = state.current_user(ws)
# operators: approved knowledge of their own engagements only, and no way into review
scope = ws.knowledge_scope(user)
st.title(t("nav_assistant"))

CHAT = "chat"  # session_state: list of {"role", "text", "answer" (dict) | None}
history: list[dict] = st.session_state.setdefault(CHAT, [])
interviews = {i.id: i for i in ws.list_interviews()}

approved = ws.count_elements(ReviewStatus.APPROVED)
if approved == 0:
    st.warning(t("no_approved"), icon="📭")
    if user.may("review"):
        st.page_link("ui/pages/review.py", label=t("go_review"), icon="✅")
elif scope is None:
    st.caption(t("approved_count", n=approved))

if user.may("review"):
    chat_tab, open_tab = st.tabs([t("chat"), t("open_questions")])
else:  # the questions nothing answered are the consultants' to-do list
    chat_tab, open_tab = st.container(), None


def citation_buttons(answer: Answer, key: str) -> None:
    if not answer.citations:
        return
    st.markdown(f"**{t('sources')}**")
    for n, c in enumerate(answer.citations):
        cols = st.columns([5, 1, 1])
        title = c.interview_title or (
            interviews[c.interview_id].title if c.interview_id in interviews else c.interview_id
        )
        when = f" · {fmt_time(c.audio_start)}" if c.audio_start is not None else ""
        cols[0].markdown(f"`[{c.element_id}]` {escape_md(c.summary)} — _{escape_md(title)}_{when}")
        if c.quote:
            cols[0].caption(f"「{c.quote}」")
        if c.audio_start is not None and cols[1].button("▶", key=f"cite_play_{key}_{n}",
                                                        help=t("play_here")):  # fmt: skip
            _play(c)
        if user.may("review"):
            cols[2].page_link("ui/pages/review.py", label=t("open"), icon="🔎",
                              query_params={"element": c.element_id})  # fmt: skip


def _play(c: Citation) -> None:
    request_play(c.interview_id, c.audio_start)
    st.session_state["cite_audio"] = c.interview_id


def render_answer(answer: Answer, key: str) -> None:
    if not answer.covered:
        st.info(answer.text, icon="🤷")
    else:
        st.markdown(answer.text.replace("\n", "  \n"))
    for w in answer.warnings:
        st.caption(f"⚠️ {w}")
    citation_buttons(answer, key)


def ask(ws: Workspace, question: str) -> None:
    # a reply to our follow-up question is asked together with that question and what was
    # asked before it (the assistant keeps no conversation of its own)
    last = history[-2] if len(history) >= 2 else {}
    if last.get("answer") and last.get("asked"):
        question = with_reply(last["asked"], Answer.model_validate(last["answer"]), question)
    holder: dict[str, Answer] = {}

    def pieces() -> Iterator[str]:
        for item in ws.assistant.ask_stream(question, filters=scope):
            if isinstance(item, Answer):
                holder["answer"] = item
            else:
                yield item.replace("\n", "  \n")  # one line of the answer per line

    with st.chat_message("assistant"):
        draft = st.empty()
        try:
            with draft.container(), st.spinner(t("thinking")):
                st.write_stream(pieces())
        except ShikumiError as exc:
            draft.empty()
            state.show_error(exc)
            history.append({"role": "assistant", "text": "", "error": str(exc)})
            return
        draft.empty()
        answer = holder.get("answer")
        if answer is None:
            st.error(t("no_answer"))
            return
        render_answer(answer, key=str(len(history)))  # the key it keeps in the history
    history.append(
        {
            "role": "assistant",
            "text": answer.text,
            "answer": answer.model_dump(mode="json"),
            "asked": question,
        }
    )


with chat_tab:
    for n, msg in enumerate(history):
        with st.chat_message(msg["role"]):
            if msg.get("error"):
                state.show_error(msg["error"])
            elif msg.get("answer"):
                render_answer(Answer.model_validate(msg["answer"]), key=str(n))
            else:
                st.markdown(msg["text"])
    if (iid := st.session_state.get("cite_audio")) and iid in interviews:
        audio_player(ws, interviews[iid])
    question = st.chat_input(t("ask_placeholder"))
    if question and question.strip():
        history.append({"role": "user", "text": question.strip()})
        with st.chat_message("user"):
            st.markdown(question.strip())
        ask(ws, question.strip())

if open_tab is not None:
    with open_tab:
        st.caption(t("open_questions_intro"))
        questions = ws.list_open_questions()
        if not questions:
            st.caption(t("open_questions_none"))
        for q in questions:
            cols = st.columns([6, 1])
            cols[0].markdown(f"**{escape_md(q.question)}**")
            cols[0].caption(
                t("asked_times", n=q.count, last=q.last_asked.strftime("%Y-%m-%d %H:%M"))
            )
            if cols[1].button(t("resolve"), key=f"resolve_{q.id}"):
                ws.resolve_open_question(int(q.id or 0))
                st.rerun()
