"""People and roles: login, what each role reaches, whose name a review action keeps.

Each forbidden path is tried: a visitor without login, a wrong password, an operator opening
the review / hearings / transcript / flow / settings pages, an operator asking about another
client's procedure, a consultant opening the settings. The embedded default (no users) still
opens without a login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from pipeline import cli
from pipeline.auth import (
    AuthError,
    check_login,
    hash_password,
    knowledge_filters,
    new_user,
    verify_password,
)
from pipeline.models import Engagement, ReviewStatus
from pipeline.workspace import Workspace
from tests import test_app
from tests.app_support import processed_workspace
from tests.test_app import APP, button, texts

app_env = test_app.app_env  # the app tests' fixture: a workspace on fakes behind the app

PASSWORD = "correct horse"


def test_passwords_are_hashed_salted_and_checked() -> None:
    one, two = hash_password(PASSWORD), hash_password(PASSWORD)
    assert PASSWORD not in one and one != two  # salted
    assert verify_password(PASSWORD, one) and not verify_password("wrong", one)
    user = new_user("sato", "consultant", PASSWORD)
    assert check_login(user, PASSWORD) is user
    for who, password in ((user, "wrong password"), (None, PASSWORD)):
        with pytest.raises(AuthError, match="user name or password is wrong"):
            check_login(who, password)  # the same answer for an unknown user
    with pytest.raises(AuthError, match="at least 8"):
        new_user("x", "operator", "short")


def _two_clients(ws: Workspace) -> tuple[str, str]:
    """Two hearings with approved rules, one per client engagement; op1 is a member of A."""
    a, b = processed_workspace(ws), processed_workspace(ws)
    ws.store.save_engagement(Engagement(id="eng_a", name="A社", members=["op1", "sato"]))
    ws.store.save_engagement(Engagement(id="eng_b", name="B社", members=["sato"]))
    for iid, eid in ((a, "eng_a"), (b, "eng_b")):
        iv = ws.store.get_interview(iid)
        iv.engagement_id = eid
        ws.store.save_interview(iv)
    ws.approve_all(who="test")
    ws.store.save_user(new_user("op1", "operator", PASSWORD))
    ws.store.save_user(new_user("op2", "operator", PASSWORD))  # in no engagement
    ws.store.save_user(new_user("sato", "consultant", PASSWORD))
    ws.store.save_user(new_user("root", "admin", PASSWORD))
    return a, b


def test_operator_knowledge_is_their_engagements_approved_rules_only(app_env: Any) -> None:
    ws = app_env()
    a, b = _two_clients(ws)
    question = "5万円を超える経費の承認は誰ですか"
    everything = {r.metadata["interview_id"] for r in ws.assistant.retrieve(question)}
    assert everything == {a, b}
    op1 = knowledge_filters(ws.store.get_user("op1"), ws.store)  # type: ignore[arg-type]
    assert {r.metadata["interview_id"] for r in ws.assistant.retrieve(question, op1)} == {a}
    op2 = knowledge_filters(ws.store.get_user("op2"), ws.store)  # type: ignore[arg-type]
    assert ws.assistant.retrieve(question, op2) == []
    assert knowledge_filters(ws.store.get_user("sato"), ws.store) is None  # type: ignore[arg-type]


def signed_in(user: str | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if user:
        at.session_state["user"] = user
    at.run()
    if page:
        at.switch_page(f"ui/pages/{page}.py")
        at.run()
    assert not at.exception, at.exception
    return at


def test_without_users_the_app_opens_without_login(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = signed_in(None, "settings")
    assert at.title[0].value == "設定"  # the single local admin reaches everything
    assert not [f for f in at.text_input if f.key == "login_password"]


def test_nobody_reaches_a_page_without_login(app_env: Any) -> None:
    ws = app_env()
    _two_clients(ws)
    for page in (None, "review", "assistant", "settings"):
        at = signed_in(None, page)
        assert at.title[0].value == "ログイン"
        assert "経費精算ヒアリング" not in texts(at)
        assert "5万円" not in texts(at)


def test_wrong_password_is_refused_and_the_right_one_signs_in(app_env: Any) -> None:
    ws = app_env()
    _two_clients(ws)
    at = signed_in(None)
    at.text_input(key="login_name").set_value("sato")
    at.text_input(key="login_password").set_value("not the password")
    at.button[0].click().run()
    assert "ユーザー名またはパスワード" in texts(at) or "password is wrong" in texts(at)
    assert at.title[0].value == "ログイン"
    at.text_input(key="login_password").set_value(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "ヒアリング"  # the form is gone, the default page shows
    assert at.session_state["user"] == "sato"
    assert any("sato(コンサルタント)としてログイン中" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", ["hearings", "transcript", "review", "flow", "settings"])
def test_operator_reaches_only_the_assistant(app_env: Any, page: str) -> None:
    ws = app_env()
    _two_clients(ws)
    at = signed_in("op1")
    assert at.title[0].value == "アシスタント"
    with pytest.raises(ValueError, match=r"Known pages: \['[^',]*assistant\.py'\]"):
        at.switch_page(f"ui/pages/{page}.py")  # not in an operator's navigation at all
    at.run()
    assert at.title[0].value == "アシスタント"
    assert not [b for b in at.button if b.label == "承認"]
    assert not at.get("page_link")  # no way into review from citations or hints
    assert "確認事項" not in texts(at) and "解決済み" not in [b.label for b in at.button]


def test_consultant_does_not_reach_the_settings(app_env: Any) -> None:
    ws = app_env()
    _two_clients(ws)
    at = signed_in("sato")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("ui/pages/settings.py")
    assert signed_in("root", "settings").title[0].value == "設定"


def test_review_action_keeps_who_and_when(app_env: Any) -> None:
    ws = app_env()
    iid = processed_workspace(ws)
    ws.store.save_user(new_user("sato", "consultant", PASSWORD))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = "sato"
    at.run()
    at.switch_page("ui/pages/review.py")
    at.query_params.update({"element": "J0001"})
    at.run()
    assert not at.exception
    button(at, "承認", nth=1).click().run()
    el = ws.store.get_element("J0001")
    assert el.status == ReviewStatus.APPROVED and el.interview_id == iid
    assert el.history[-1].who == "sato" and el.history[-1].at is not None


def test_cli_adds_users_with_membership(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import pipeline.workspace as w

    from .conftest import FakeEmbedder

    monkeypatch.setattr(w, "embedder", lambda settings: FakeEmbedder())
    ws = str(tmp_path / "ws")
    assert cli.main(["users", "list", "--workspace", ws]) == 0
    assert "no users" in capsys.readouterr().out
    monkeypatch.setenv("SHIKUMI_NEW_PASSWORD", PASSWORD)
    code = cli.main(
        [
            *("users", "add", "op1", "--role", "operator", "--engagement", "default"),
            *("--workspace", ws, "--json"),
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "op1", "role": "operator", "engagements": ["default"]}
    ]
    assert cli.main(["users", "remove", "op1", "--workspace", ws]) == 0
    assert "no users" in capsys.readouterr().out  # login is off again
    assert cli.main(["users", "remove", "op1", "--workspace", ws]) == 2
    assert "shikumi users list" in capsys.readouterr().err


def test_operator_without_engagement_gets_no_rule_from_other_clients(app_env: Any) -> None:
    ws = app_env()
    _two_clients(ws)
    question = "5万円を超える経費の承認は誰ですか"
    if not ws.assistant.retriever.covered(ws.assistant.retrieve(question)):
        pytest.skip("the fake embedder does not find the rule close enough to answer")
    at = signed_in("op2")  # an operator in no engagement: nothing approved is theirs
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    shown = texts(at)
    assert "承認済みのルールには、この質問に答えるものがありません" in shown
    assert "[J0001]" not in shown and "部長の承認が必要です" not in shown
