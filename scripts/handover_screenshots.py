"""Screenshots of the hand-over package for docs/handover.md, taken with Debian's Chromium.

    flock /tmp/shikumi-cpu.lock .venv/bin/python scripts/handover_screenshots.py [--app]

Builds the sample engagement's package and shows each file as the real tools read it back:
the BPMN in bpmn-js, the .xlsx sheets through openpyxl, the .docx through python-docx, the DMN
tables through the XML. With ``--app`` it also starts the app on a temporary workspace with the
sample engagement and captures the engagement and flow pages. Output: docs/img/handover-*.png.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

from pipeline import sample_engagement as se
from pipeline.handover.assemble import from_store
from pipeline.handover.package import build_files
from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
STYLE = """<style>body{font-family:"Noto Sans CJK JP",sans-serif;font-size:12px;margin:12px}
table{border-collapse:collapse} td,th{border:1px solid #b0bec5;padding:3px 6px;vertical-align:top;
max-width:260px;white-space:pre-wrap} th{background:#ddebf7;position:sticky;top:0}
h1{font-size:18px} h2{font-size:15px;margin:10px 0 4px} .cap{color:#546e7a}</style>"""


def xlsx_html(data: bytes, title: str, max_rows: int = 14, max_cols: int = 20) -> str:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))[: max_rows + 1]
    head = "".join(f"<th>{escape(str(v))}</th>" for v in rows[0][:max_cols])
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(str(v if v is not None else ''))}</td>" for v in r[:max_cols])
        + "</tr>"
        for r in rows[1:]
    )
    cap = (
        f"openpyxl: sheet 「{ws.title}」, frozen at {ws.freeze_panes}, "
        f"filter {ws.auto_filter.ref}, font {ws['A2'].font.name}"
    )
    table = f"<table><tr>{head}</tr>{body}</table>"
    return f"<h1>{escape(title)}</h1><p class=cap>{escape(cap)}</p>{table}"


def docx_html(data: bytes) -> str:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(io.BytesIO(data))
    font = doc.styles["Normal"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))
    out = [f"<p class=cap>python-docx: Normal style East Asian font = {escape(font)}</p>"]
    for p in doc.paragraphs:
        if p.style.name == "Title":
            out.append(f"<h1>{escape(p.text)}</h1>")
        elif p.style.name.startswith("Heading"):
            out.append(f"<h2>{escape(p.text)}</h2>")
        elif p.text:
            out.append(
                f"<div>・{escape(p.text)}</div>"
                if p.style.name == "List Bullet"
                else f"<div>{escape(p.text)}</div>"
            )
    return "".join(out)


def dmn_html(data: bytes) -> str:
    ns = {"d": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    root = ET.fromstring(data)
    out = ["<h1>03_判断基準.dmn (DMN 1.3)</h1>"]
    for dec in root.findall("d:decision", ns)[:4]:
        table = dec.find("d:decisionTable", ns)
        assert table is not None
        inp = table.find("d:input", ns)
        label = inp.get("label") if inp is not None else ""
        out.append(f"<h2>{escape(dec.get('name', ''))} — hitPolicy {table.get('hitPolicy')}</h2>")
        out.append(
            f"<table><tr><th>#</th><th>{escape(label or '')}</th><th>結果</th><th>注記</th></tr>"
        )
        for n, rule in enumerate(table.findall("d:rule", ns), 1):
            ie = rule.findtext("d:inputEntry/d:text", "", ns)
            oe = rule.findtext("d:outputEntry/d:text", "", ns)
            note = rule.findtext("d:description", "", ns)
            out.append(
                f"<tr><td>{n}</td><td>{escape(ie)}</td><td>{escape(oe)}</td><td>{escape(note)}</td></tr>"
            )
        out.append("</table>")
    return "".join(out)


def shoot(page, html: str, name: str, width: int = 1400) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": width, "height": 800})
    page.set_content(f"<!doctype html><meta charset=utf-8>{STYLE}{html}")
    page.screenshot(path=str(OUT / name), full_page=True)


def bpmn_js(page, xml: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1600, "height": 720})
    style = "<style>html,body,#c{margin:0;height:100%}</style>"
    page.set_content(f"<!doctype html><meta charset=utf-8>{style}<div id=c></div>")
    page.add_script_tag(path=str(ROOT / "node_modules/bpmn-js/dist/bpmn-viewer.production.min.js"))
    page.evaluate(
        "async (xml) => { const v = new BpmnJS({container: '#c'}); await v.importXML(xml);"
        " v.get('canvas').zoom('fit-viewport'); }",
        xml,
    )
    page.screenshot(path=str(OUT / "handover-bpmn-js.png"))


def app_pages(page) -> None:  # type: ignore[no-untyped-def]
    from pipeline.sample_engagement import load_into

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        load_into(Store(f"sqlite:///{ws}/shikumi.db"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "SHIKUMI_WORKSPACE": str(ws)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            page.set_viewport_size({"width": 1500, "height": 1000})
            page.goto(f"{url}/engagement")
            page.get_by_text("人による差異").first.wait_for(timeout=90_000)
            time.sleep(3)
            page.screenshot(path=str(OUT / "handover-app-inventory.png"), full_page=True)
            page.get_by_role("tab", name="人による差異").click()
            time.sleep(2)
            page.screenshot(path=str(OUT / "handover-app-differences.png"), full_page=True)
            page.goto(f"{url}/flow")
            lanes = page.frame_locator("iframe").first.locator("[data-testid=shikumi-swimlane] svg")
            lanes.first.wait_for(timeout=90_000)
            time.sleep(2)
            page.screenshot(path=str(OUT / "handover-app-flow.png"), full_page=True)
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=20)


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--app", action="store_true", help="also the app's engagement and flow pages")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:  # as in a workspace, after review (approved)
        store = Store(f"sqlite:///{tmp}/shikumi.db")
        eng = se.load_into(store)
        files = build_files(from_store(store, eng.id))
        store.close()
    (OUT / "handover-flow.png").write_bytes(files["02_業務フロー.png"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page(locale="ja-JP")
        bpmn_js(page, files["02_業務フロー.bpmn"].decode())
        shoot(
            page,
            xlsx_html(files["01_業務一覧表.xlsx"], "01_業務一覧表.xlsx"),
            "handover-inventory-xlsx.png",
            2400,
        )
        shoot(
            page,
            xlsx_html(files["03_判断基準表.xlsx"], "03_判断基準表.xlsx"),
            "handover-rules-xlsx.png",
        )
        shoot(
            page,
            xlsx_html(files["04_例外一覧.xlsx"], "04_例外一覧.xlsx"),
            "handover-exceptions-xlsx.png",
        )
        shoot(page, dmn_html(files["03_判断基準.dmn"]), "handover-dmn.png", 900)
        manual = next(n for n in files if n.endswith(".docx") and "購買申請" in n)
        shoot(
            page, f"<h1>{escape(manual)}</h1>" + docx_html(files[manual]), "handover-docx.png", 900
        )
        if args.app:
            app_pages(page)
        browser.close()
    print("\n".join(sorted(str(p.relative_to(ROOT)) for p in OUT.glob("handover-*.png"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
