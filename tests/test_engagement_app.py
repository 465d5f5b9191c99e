"""The engagement page and the swimlane flow page on the sample engagement (AppTest)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from pipeline.inventory_store import get_decisions
from tests.test_app import app_env, button, open_page, texts  # noqa: F401  (app_env: fixture)


def test_engagement_page_loads_the_sample_and_shows_inventory_and_differences(
    app_env: Any,  # noqa: F811
) -> None:
    ws = app_env()
    at = open_page("engagement")
    button(at, "サンプル案件（みなと精機）を読み込む").click().run()
    assert not at.exception, at.exception
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "人による差異 2 件" in shown
    # differences side by side, with both quotes and the follow-up question
    assert "10万円以上になると部長の承認が必要です" in shown
    assert "30万円を超えると部長の承認です" in shown
    assert any("次回ヒアリングで確認" in i.value for i in at.info)
    assert len(at.get("audio")) >= 4  # each side replayable
    # edit: rename an item and set its minutes; IDs stay, the decision is stored
    table = at.get("arrow_data_editor") or at.get("data_editor")
    assert table
    at.toggle(key="inv_single").set_value(True).run()
    assert not at.exception
    # build the package with drafts off: the sample is approved
    button(at, "引き継ぎパッケージを作成").click().run()
    assert not at.exception, at.exception
    assert "ファイルを作成しました" in texts(at)
    data = at.session_state["dl_zip"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "01_業務一覧表.xlsx" in z.namelist()
    # merge two items from the UI: stored as a reviewer decision, one item fewer
    before = len(at.multiselect(key="inv_merge").options)
    pick = [o for o in at.multiselect(key="inv_merge").options if "急ぎ" in o or "振込先" in o]
    pick = [label.split(" ")[0] for label in pick[:2]]  # the 業務IDs
    at.multiselect(key="inv_merge").set_value(pick).run()
    button(at, "統合する").click().run()
    assert not at.exception, at.exception
    eng_id = at.selectbox(key="eng_id").value
    assert len(get_decisions(ws.store, eng_id).merge) == 1
    at.run()
    assert len(at.multiselect(key="inv_merge").options) == before - 1


def test_an_engagement_is_created_in_the_app_and_a_hearing_joins_it(
    app_env: Any,  # noqa: F811
) -> None:
    from tests.app_support import processed_workspace

    ws = app_env()
    iid = processed_workspace(ws)
    at = open_page("engagement")
    at.text_input[0].set_value("経理BPO")
    at.text_input[1].set_value("架空商事")
    at.text_area[0].set_value("経理>経費精算\n経理>支払")
    at.multiselect[0].set_value([iid])
    button(at, "案件を保存").click().run()
    assert not at.exception, at.exception
    engs = [e for e in ws.store.list_engagements() if e.name == "経理BPO"]
    assert engs and [a.name for a in engs[0].areas[0].children] == ["経費精算", "支払"]
    assert ws.store.get_interview(iid).engagement_id == engs[0].id
    at.run()
    assert not at.exception
    assert "ヒアリング 1 件" in texts(at)


def test_flow_page_draws_the_engagement_as_swimlanes(app_env: Any) -> None:  # noqa: F811
    from pipeline.sample_engagement import load_into

    ws = app_env()
    load_into(ws.store)
    at = open_page("flow")
    html = at.get("iframe")[0].proto.srcdoc  # the same layout as the BPMN export
    # one lane per role, short labels, the judgment with its branches
    for lane in ("購買担当", "経理担当"):
        assert f">{lane}<" in html
    assert "発注の承認者" in html and "<polygon" in html
    assert "。" not in html  # labels, not whole sentences
    assert at.selectbox(key="flow_interview").value.startswith("eng:")
