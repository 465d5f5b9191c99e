"""Engagement: many hearings as one work inventory (業務一覧) with its differences between
people, who knows what, and the hand-over package to download."""

from __future__ import annotations

import streamlit as st

from pipeline.errors import ShikumiError
from pipeline.inventory import KIND_JA
from ui import state
from ui.format import fmt_time
from ui.i18n import t

ws = state.workspace()
st.title(t("eng_title"))


def _edit_form() -> None:
    """Create an engagement or edit one: names, tree, glossary, members, and its hearings."""
    from pipeline.cli_engagement import areas_tree
    from pipeline.models import DEFAULT_ENGAGEMENT, Engagement

    every = {e.id: e for e in ws.list_engagements() if e.id != DEFAULT_ENGAGEMENT}
    with st.expander(t("eng_edit")):
        keys = ["", *every]
        key = st.selectbox(t("eng_pick"), keys, key="eng_edit_id",
                           format_func=lambda k: every[k].name if k else t("eng_new"))  # fmt: skip
        cur = every.get(key) or Engagement(name="")
        with st.form("eng_form"):
            name = st.text_input(t("eng_name"), cur.name)
            client = st.text_input(t("eng_client"), cur.client)
            members = st.text_input(t("eng_members"), ", ".join(cur.members))
            glossary = st.text_input(t("eng_glossary"), ", ".join(cur.glossary))
            tree = "\n".join(f"{a.name}>{c.name}" for a in cur.areas for c in a.children)
            areas = st.text_area(t("eng_areas"), tree)
            all_ivs = {i.id: i for i in ws.list_interviews()}
            mine = [i for i, iv in all_ivs.items() if key and iv.engagement_id == key]
            hearings = st.multiselect(t("eng_hearings"), list(all_ivs), default=mine,
                                      format_func=lambda i: all_ivs[i].title)  # fmt: skip
            if st.form_submit_button(t("eng_save")):
                if not name.strip():
                    st.error(t("eng_name_missing"))
                    return
                cur.name, cur.client = name.strip(), client.strip()
                cur.members = [m.strip() for m in members.split(",") if m.strip()]
                cur.glossary = [g.strip() for g in glossary.split(",") if g.strip()]
                cur.areas = areas_tree(",".join(areas.splitlines()))
                ws.save_engagement(cur, hearings)
                st.success(t("eng_saved", name=cur.name))
                if hearings:
                    st.session_state["eng_id"] = cur.id
                st.rerun()


engagements = ws.engagements_with_hearings()
_edit_form()
if not engagements:
    st.info(t("eng_none"))
    if st.button(t("eng_load_sample"), key="eng_sample", type="primary"):
        ws.load_sample_engagement()
        st.success(t("eng_loaded"))
        st.rerun()
    st.stop()

names = {e.id: f"{e.name}（{e.client}）" if e.client else e.name for e in engagements}
wanted = st.query_params.get("engagement", "")
ids = list(names)
eng_id = st.selectbox(
    t("eng_pick"), ids, index=ids.index(wanted) if wanted in ids else 0,
    format_func=names.get, key="eng_id",
)  # fmt: skip
try:
    h = ws.handover(eng_id, include_drafts=True)
except ShikumiError as exc:
    state.show_error(exc)
    st.stop()
decisions = ws.inventory_decisions(eng_id)
inv = h.inventory
hours = sum(w.monthly_hours or 0 for w in h.workloads.values())
st.caption(
    t("eng_summary", hearings=len(h.interviews), items=len(inv.items),
      sole=sum(i.single_source for i in inv.items), diffs=len(h.differences), hours=hours)
)  # fmt: skip

tab_inv, tab_diff, tab_hold, tab_dl = st.tabs(
    [t("tab_inventory"), t("tab_differences"), t("tab_holders"), t("tab_downloads")]
)

# --------------------------------------------------------------------------- inventory
with tab_inv:
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
    kinds = c1.multiselect(t("f_kind"), list(KIND_JA.values()), key="inv_kinds")
    mids = sorted({i.area[1] for i in inv.items if len(i.area) > 1})
    mid = c2.selectbox(t("f_area"), ["", *mids], key="inv_area")
    single = c3.toggle(t("f_single"), key="inv_single")
    query = c4.text_input(t("f_search"), key="inv_query")
    diff_items = {d.item_id for d in h.differences}
    rows = []
    for item in inv.items:
        if kinds and KIND_JA[item.kind] not in kinds:
            continue
        if mid and (len(item.area) < 2 or item.area[1] != mid):
            continue
        if single and not item.single_source:
            continue
        if query and query not in item.name and not any(query in s.quote for s in item.sources):
            continue
        w = h.workloads[item.id]
        a = h.assessments[item.id]
        rows.append(
            {
                t("col_id"): item.id,
                t("col_kind"): KIND_JA[item.kind],
                t("col_big"): item.area[0] if item.area else "",
                t("col_mid"): item.area[1] if len(item.area) > 1 else "",
                t("col_name"): item.name,
                t("col_people"): "、".join(item.people),
                t("col_single"): item.single_source,
                t("col_diff"): item.id in diff_items,
                t("col_per_month"): w.per_month,
                t("col_count"): w.items_per_run,
                t("col_minutes"): w.minutes_per_item,
                t("col_hours"): w.monthly_hours,
                t("col_readiness"): a.readiness,
                t("eng_col_status"): h.status_label(item),
                t("col_confirmed"): item.confirmed,
            }
        )
    editable = {t("col_mid"), t("col_name"), t("col_per_month"), t("col_count"),
                t("col_minutes"), t("col_confirmed")}  # fmt: skip
    area_options = sorted({c.name for a in h.engagement.areas for c in a.children} | set(mids))
    edited = st.data_editor(
        rows,
        key="inv_table",
        hide_index=True,
        width="stretch",
        disabled=[k for k in (rows[0] if rows else {}) if k not in editable],
        column_config={
            t("col_mid"): st.column_config.SelectboxColumn(options=area_options),
            t("col_hours"): st.column_config.NumberColumn(format="%.1f"),
        },
    )
    if st.button(t("save_inventory"), key="inv_save", type="primary"):
        by_id = inv.by_id()
        for row in edited:
            item = by_id[row[t("col_id")]]
            if row[t("col_name")] != item.name:
                decisions.name[item.id] = row[t("col_name")]
            if len(item.area) > 1 and row[t("col_mid")] != item.area[1]:
                decisions.area[item.id] = [item.area[0], row[t("col_mid")]]
            load = {}
            for col, key in (("col_per_month", "per_month"), ("col_count", "items_per_run"),
                             ("col_minutes", "minutes_per_item")):  # fmt: skip
                if row[t(col)] is not None:
                    load[key] = float(row[t(col)])
            if load:
                decisions.workload[item.id] = load
            confirmed = set(decisions.confirmed)
            if row[t("col_confirmed")]:
                confirmed.add(item.id)
            else:
                confirmed.discard(item.id)
            decisions.confirmed = sorted(confirmed)
        ws.save_inventory_decisions(eng_id, decisions)
        st.success(t("inventory_saved"))
        st.rerun()

    st.subheader(t("merge_header"))
    labels = {i.id: f"{i.id} {i.name}（{'、'.join(i.people)}）" for i in inv.items}
    m1, m2 = st.columns(2)
    pick = m1.multiselect(t("merge_pick"), list(labels), format_func=labels.get, key="inv_merge")
    if m1.button(t("merge_do"), key="inv_merge_do", disabled=len(pick) < 2):
        members = [m for i in pick for m in inv.by_id()[i].members]
        decisions.merge.append(members)
        decisions.split = [p for p in decisions.split if not set(p) <= set(members)]
        ws.save_inventory_decisions(eng_id, decisions)
        st.success(t("merged", n=len(pick)))
        st.rerun()
    multi = [i.id for i in inv.items if len(i.members) > 1]
    split_item = m2.selectbox(
        t("split_pick"), ["", *multi], format_func=lambda i: labels.get(i, ""), key="inv_split"
    )
    if split_item:
        item = inv.by_id()[split_item]
        quotes = {s.element_id: f"{s.person}「{s.quote}」" for s in item.sources}
        member = m2.selectbox(t("split_member"), list(quotes), format_func=quotes.get,
                              key="inv_split_member")  # fmt: skip
        if m2.button(t("split_do"), key="inv_split_do"):
            others = [m for m in item.members if m != member]
            decisions.split += [[member, o] for o in others]
            decisions.merge = [g for g in decisions.merge if member not in g]
            ws.save_inventory_decisions(eng_id, decisions)
            st.success(t("split_done"))
            st.rerun()
    if inv.candidates:
        with st.expander(t("candidates") + f" ({len(inv.candidates)})"):
            item_of = inv.item_of()
            for c in inv.candidates:
                a, b = item_of.get(c.a, ""), item_of.get(c.b, "")
                st.markdown(f"- {labels.get(a, a)} ↔ {labels.get(b, b)} ({c.score:.2f})")

# --------------------------------------------------------------------------- differences
with tab_diff:
    if not h.differences:
        st.info(t("no_differences"))
    for d in h.differences:
        with st.container(border=True):
            badge = t("find_approval_route_varies") if d.kind == "approval_route_varies" else d.kind
            st.markdown(f"**{d.item_id} {d.item_name}** · {badge}")
            st.write(d.summary)
            cols = st.columns(len(d.sides))
            for col, side in zip(cols, d.sides, strict=True):
                src = side.source
                with col:
                    at = fmt_time(src.audio_start) if src.audio_start is not None else ""
                    st.markdown(f"**{src.person}** · {src.hearing} {at}")
                    st.markdown(f"> 「{src.quote}」")
                    st.caption(side.value)
                    interview = h.interviews.get(src.interview_id)
                    if interview is not None and interview.audio_path:
                        try:
                            path = ws.audio_file(interview)
                            if path.exists():
                                st.audio(str(path), start_time=int(src.audio_start or 0))
                        except ShikumiError:
                            pass
            st.info(f"{t('followup')}: {d.question}")

# --------------------------------------------------------------------------- knowledge holders
with tab_hold:
    st.caption(t("holders_intro"))
    people = [x.person for x in h.holders]
    st.dataframe(
        [{t("col_people"): x.person, t("holder_items"): len(x.items), t("holder_sole"): len(x.sole)}
         for x in h.holders],
        hide_index=True,
    )  # fmt: skip
    matrix = [
        {
            t("col_id"): i.id,
            t("col_name"): i.name,
            **{p: ("●" if p in i.people else "") for p in people},
        }
        for i in inv.items
    ]
    st.dataframe(matrix, hide_index=True, width="stretch")

# --------------------------------------------------------------------------- downloads
with tab_dl:
    drafts = st.checkbox(t("include_drafts"), key="dl_drafts")
    if st.button(t("build_package"), key="dl_build", type="primary"):
        from pipeline.handover.package import build_files, zip_files

        try:
            package = ws.handover(eng_id, include_drafts=drafts)
        except ShikumiError as exc:
            state.show_error(exc)
        else:
            files = build_files(package)
            st.session_state["dl_zip"] = zip_files(files)
            st.session_state["dl_count"] = (len(package.items), len(files))
    if st.session_state.get("dl_zip"):
        items, files = st.session_state.get("dl_count", (0, 0))
        st.success(t("package_built", items=items, files=files))
        st.download_button(
            t("download_zip"), st.session_state["dl_zip"], file_name=f"handover-{eng_id}.zip",
            mime="application/zip", key="dl_zip_button",
        )  # fmt: skip
