"""The edit form of one element: every field, validated by the pipeline, never losing an edit.

An edit is applied with the version the user opened (``expected_version``). If someone else
changed the element meanwhile, the pipeline refuses; the user's edit stays in session state,
is shown, and can be re-applied on top of the newer version with one click.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pipeline.errors import ShikumiError
from pipeline.models import AnyElement, CriterionStatus, FindingKind
from pipeline.workspace import Workspace

from . import state
from .i18n import t

PENDING = "pending_edits"  # session_state: element id -> changes the user submitted
OPENED = "opened_elements"  # session_state: element id -> {"version", "data"} as the user opened it

TEXT = "text"
LIST = "list"
FIELDS: dict[str, list[tuple[str, str]]] = {
    "task": [
        ("summary", TEXT), ("action", TEXT), ("actor", TEXT), ("inputs", LIST),
        ("outputs", LIST), ("systems", LIST), ("frequency", TEXT), ("volume", TEXT),
        ("order", "int"), ("next_ids", LIST),
    ],
    "judgment": [
        ("summary", TEXT), ("decision", TEXT), ("decider", TEXT), ("criterion", "criterion"),
        ("rules", "rules"), ("branch_to", "branches"),
    ],
    "exception": [
        ("summary", TEXT), ("trigger", TEXT), ("handling", TEXT), ("owner", TEXT),
        ("frequency", TEXT), ("is_routine", "bool"), ("interrupts", "optional"),
    ],
    "finding": [
        ("summary", TEXT), ("finding", "finding"), ("concerns", LIST), ("recommendation", TEXT),
    ],
}  # fmt: skip


def opened(el: AnyElement) -> dict[str, Any]:
    """The element as the user opened it: edits are diffed against this, not the database."""
    snapshots: dict[str, dict[str, Any]] = st.session_state.setdefault(OPENED, {})
    if el.id not in snapshots:
        mark_opened(el)
    return snapshots[el.id]


def mark_opened(el: AnyElement) -> None:
    st.session_state.setdefault(OPENED, {})[el.id] = {
        "version": el.version,
        "data": el.model_dump(mode="json"),
    }


def _key(el: AnyElement, field: str) -> str:
    return f"ed_{el.id}_{field}"


def forget_widgets(el: AnyElement) -> None:
    for field, _kind in FIELDS[el.kind]:
        st.session_state.pop(_key(el, field), None)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("、", ",").replace("\n", ",").split(",") if p.strip()]


def _widget(el: AnyElement, field: str, kind: str, value: Any) -> Any:
    key, label = _key(el, field), t("field_" + field)
    if kind == TEXT:
        return st.text_area(label, value or "", key=key, height=68)
    if kind == LIST:
        return _split(st.text_input(label, ", ".join(value or []), key=key))
    if kind == "int":
        raw = st.text_input(label, "" if value is None else str(value), key=key)
        return int(raw) if raw.strip().isdigit() else None
    if kind == "optional":
        return st.text_input(label, value or "", key=key).strip() or None
    if kind == "bool":
        return st.checkbox(label, bool(value), key=key)
    if kind == "criterion":
        options = [c.value for c in CriterionStatus]
        return st.selectbox(
            label, options, options.index(value), key=key, format_func=lambda c: t("crit_" + c)
        )
    if kind == "finding":
        options = [f.value for f in FindingKind]
        return st.selectbox(
            label, options, options.index(value), key=key, format_func=lambda f: t("find_" + f)
        )
    if kind == "rules":
        # an inferred row (the other side of a threshold) stays marked until the reviewer
        # clears the mark
        frame = pd.DataFrame(value or [], columns=["condition", "outcome", "inferred"])
        frame["inferred"] = frame["inferred"].fillna(False).astype(bool)
        edited = st.data_editor(
            frame, key=key, num_rows="dynamic", hide_index=True, width="stretch",
            column_config={"inferred": st.column_config.CheckboxColumn(t("rule_inferred"))},
        )  # fmt: skip
        return [
            {
                "condition": str(r.condition).strip(),
                "outcome": str(r.outcome).strip(),
                "inferred": bool(r.inferred),
            }
            for r in edited.itertuples(index=False)
            if str(r.condition or "").strip() or str(r.outcome or "").strip()
        ]
    if kind == "branches":
        raw = "\n".join(f"{k}: {v}" for k, v in (value or {}).items())
        text = st.text_area(label, raw, key=key, height=68, help=t("branches_help"))
        out = {}
        for line in text.splitlines():
            outcome, sep, target = line.rpartition(":")
            if sep and outcome.strip() and target.strip():
                out[outcome.strip()] = target.strip()
        return out
    raise ValueError(kind)


def apply_edit(ws: Workspace, el_id: str, changes: dict[str, Any], expected: int) -> bool:
    try:
        saved = ws.reviewer.edit(el_id, changes, state.reviewer_name(ws), expected_version=expected)
    except ShikumiError as exc:
        st.session_state.setdefault(PENDING, {})[el_id] = changes
        st.session_state["edit_error"] = exc
        return False
    st.session_state.get(PENDING, {}).pop(el_id, None)
    mark_opened(saved)
    st.session_state["edit_ok"] = el_id
    return True


def edit_form(ws: Workspace, el: AnyElement) -> None:
    snapshot = opened(el)
    data, expected = snapshot["data"], snapshot["version"]
    pending: dict[str, Any] = st.session_state.get(PENDING, {}).get(el.id, {})
    if expected != el.version and not pending:
        st.warning(t("changed_elsewhere", version=el.version), icon="🔄")
        if st.button(t("reload_element"), key=f"reload_{el.id}"):
            forget_widgets(el)
            mark_opened(el)
            st.rerun()
    if pending:
        st.error(t("edit_conflict", version=el.version), icon="⚠️")
        st.json(pending)
        b1, b2 = st.columns(2)
        if b1.button(t("reapply_edit"), key=f"reapply_{el.id}", type="primary"):
            if apply_edit(ws, el.id, pending, el.version):
                forget_widgets(el)
            st.rerun()
        if b2.button(t("discard_edit"), key=f"discard_{el.id}"):
            st.session_state[PENDING].pop(el.id, None)
            forget_widgets(el)
            mark_opened(el)
            st.rerun()
    with st.form(f"edit_{el.id}"):
        values = {}
        for field, kind in FIELDS[el.kind]:
            values[field] = _widget(el, field, kind, pending.get(field, data[field]))
        submitted = st.form_submit_button(t("save_edit"), type="primary")
    if submitted:
        changes = {f: v for f, v in values.items() if v != data[f]}
        if changes:
            apply_edit(ws, el.id, changes, expected)
            st.rerun()
        st.toast(t("no_changes"))
    if exc := st.session_state.pop("edit_error", None):
        state.show_error(exc)
    if st.session_state.pop("edit_ok", None) == el.id:
        st.success(t("edit_saved", version=el.version), icon="💾")
