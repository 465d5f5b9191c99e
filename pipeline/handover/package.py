"""The hand-over package: every file, plus 要確認事項 and an index page, in one .zip.

Deterministic: the same engagement state gives the same file names, IDs and bytes for the
text files (zip entries carry a fixed timestamp), so a re-export after edits diffs cleanly.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html import escape

from ..followups import follow_ups
from .assemble import Handover
from .bpmn import to_bpmn
from .diagram import approved_map, handover_layout, to_png, to_svg
from .manual import procedures, to_docx, to_markdown
from .rules import Table, rule_tables, to_dmn
from .sheets import exceptions_xlsx, inventory_xlsx, rules_xlsx

FIXED_TIME = (2026, 1, 1, 0, 0, 0)


@dataclass
class Question:
    topic: str
    question: str
    about: str  # 業務ID
    quotes: list[str]


def questions(h: Handover) -> list[Question]:
    out: list[Question] = []
    for d in h.differences:
        quotes = [f"{s.source.person}「{s.source.quote}」" for s in d.sides]
        out.append(Question("人による差異", d.question, d.item_id, quotes))
    exported = {i.id for i in h.items}
    for item in h.items:
        if item.single_source and item.people:
            out.append(
                Question(
                    "一人だけが説明した業務",
                    f"「{item.name}」は{item.people[0]}さんからしか聞けていません。"
                    "他に分かる方はいますか？不在のときは誰が対応しますか？",
                    item.id,
                    [f"{s.person}「{s.quote}」" for s in item.sources],
                )
            )
    item_of = h.inventory.item_of()
    members = [e for i in h.items for e in h.members(i)]
    for f in follow_ups(members):
        iid = item_of.get(f.element_id, "")
        if iid in exported:
            out.append(
                Question("記録の不足", f.question, iid, [f"「{f.quote}」"] if f.quote else [])
            )
    names = {i.id: i.name for i in h.inventory.items}
    for c in h.inventory.candidates:
        a, b = item_of.get(c.a, ""), item_of.get(c.b, "")
        if a in exported and b in exported:
            out.append(
                Question(
                    "同じ業務か",
                    f"「{names[a]}」と「{names[b]}」は同じ業務ですか？（類似度 {c.score:.2f}）",
                    f"{a} / {b}",
                    [],
                )
            )
    return out


def questions_markdown(h: Handover) -> str:
    lines = [f"# 要確認事項：{h.engagement.name}", "", "次回ヒアリングで確認する事項です。", ""]
    topic = ""
    for q in questions(h):
        if q.topic != topic:
            topic = q.topic
            lines += ["", f"## {topic}", ""]
        lines.append(f"- [ ] {q.question}（{q.about}）")
        lines += [f"    - {x}" for x in q.quotes]
    return "\n".join(lines) + "\n"


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_") or "未分類"


def build_files(h: Handover) -> dict[str, bytes]:
    layout = handover_layout(h)
    docs = {}
    for n in layout.nodes:
        if n.item_id:
            item = h.inventory.by_id().get(n.item_id)
            if item:
                quotes = " / ".join(f"{s.person}「{s.quote}」" for s in item.sources)
                docs[n.id] = f"業務ID {item.id}: {quotes}"
    tables = rule_tables(h)
    files: dict[str, bytes] = {
        "01_業務一覧表.xlsx": inventory_xlsx(h),
        "02_業務フロー.bpmn": to_bpmn(layout, docs).encode("utf-8"),
        "02_業務フロー.svg": to_svg(layout, approved_map(h)).encode("utf-8"),
        "02_業務フロー.png": to_png(layout),
        "03_判断基準表.xlsx": rules_xlsx(tables),
        "03_判断基準.dmn": to_dmn(tables, h.engagement.name).encode("utf-8"),
        "04_例外一覧.xlsx": exceptions_xlsx(h),
    }
    for k, proc in enumerate(procedures(h), 1):
        stem = f"05_手順書/{k:02d}_{_safe(proc.area[-1])}"
        files[f"{stem}.md"] = to_markdown(proc).encode("utf-8")
        files[f"{stem}.docx"] = to_docx(proc)
    files["06_要確認事項.md"] = questions_markdown(h).encode("utf-8")
    files["index.html"] = index_html(h, files, tables).encode("utf-8")
    return files


def index_html(h: Handover, files: dict[str, bytes], tables: list[Table]) -> str:
    e = h.engagement
    drafts = sum(1 for i in h.items if not i.approved)
    overlaps = [o for t in tables for o in t.overlaps]
    rows = "".join(
        f'<li><a href="{escape(name)}">{escape(name)}</a> ({len(data):,} bytes)</li>'
        for name, data in sorted(files.items())
    )
    diffs = "".join(
        f"<li><b>{escape(d.item_id)} {escape(d.item_name)}</b>: {escape(d.summary)}</li>"
        for d in h.differences
    )
    sole = "".join(
        f"<li>{escape(x.person)}: {len(x.sole)} / {len(x.items)} 件が一人だけの説明</li>"
        for x in h.holders
    )
    exported = {x.id for x in h.items}
    hours = sum(w.monthly_hours or 0 for i, w in h.workloads.items() if i in exported)
    overlap_list = "".join(f"<li>{escape(o)}</li>" for o in overlaps) or "<li>なし</li>"
    draft_note = "（下書きを含む出力）" if h.include_drafts else ""
    warn = '<p class="warn">下書き（未承認）の項目を含みます。確認状態の列を見てください。</p>'
    return f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>引き継ぎパッケージ：{escape(e.name)}</title>
<style>body{{font-family:"Noto Sans CJK JP","Yu Gothic",sans-serif;max-width:60em;margin:2em auto;
line-height:1.6}} .warn{{color:#b71c1c}}</style></head><body>
<h1>引き継ぎパッケージ：{escape(e.name)}</h1>
<p>顧客：{escape(e.client)}／ヒアリング {len(h.interviews)} 件／業務 {len(h.items)} 件
（うち下書き {drafts} 件{draft_note}）／月間工数（判明分）{hours:.1f} 時間</p>
{warn if drafts else ""}
<h2>ファイル</h2><ul>{rows}</ul>
<h2>人による差異</h2><ul>{diffs or "<li>なし</li>"}</ul>
<h2>知識保有者</h2><ul>{sole or "<li>なし</li>"}</ul>
<h2>判断基準の重複</h2><ul>{overlap_list}</ul>
<p><img src="02_業務フロー.svg" alt="業務フロー" style="max-width:100%"></p>
</body></html>
"""


def build_zip(h: Handover) -> bytes:
    return zip_files(build_files(h))


def zip_files(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()
