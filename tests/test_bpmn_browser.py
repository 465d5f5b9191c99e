"""The exported BPMN opens in bpmn-js (the bpmn.io viewer, as in Camunda Modeler) in a real
Chromium: imported without warnings, every shape drawn, all inside the fitted viewport.

A screenshot goes to tests/artifacts/ (kept out of git).
Run alone: ``flock /tmp/shikumi-cpu.lock .venv/bin/pytest tests/test_bpmn_browser.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline import sample_engagement as se
from pipeline.handover.assemble import assemble
from pipeline.handover.bpmn import to_bpmn
from pipeline.handover.diagram import handover_layout

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
VIEWER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>html,body{margin:0;height:100%} #canvas{width:100%;height:100%}</style></head>
<body><div id="canvas"></div></body></html>"""

CHECK = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  let warnings = [], error = null;
  try { ({ warnings } = await viewer.importXML(xml)); } catch (e) { error = String(e); }
  if (error) return { error };
  const canvas = viewer.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  const registry = viewer.get('elementRegistry');
  const shapes = registry.filter(e => !e.waypoints && e.type !== 'bpmn:Process'
                                      && e.type !== 'bpmn:Collaboration' && e.type !== 'label');
  const box = document.querySelector('#canvas').getBoundingClientRect();
  const outside = [];
  for (const s of shapes) {
    const gfx = registry.getGraphics(s).getBoundingClientRect();
    if (gfx.width === 0 || gfx.left < box.left - 1 || gfx.right > box.right + 1 ||
        gfx.top < box.top - 1 || gfx.bottom > box.bottom + 1) outside.push(s.id);
  }
  const texts = [...document.querySelectorAll('.djs-element text')].map(t => t.textContent);
  return { warnings: warnings.map(w => w.message), shapes: shapes.length, outside,
           connections: registry.filter(e => !!e.waypoints).length, texts };
}"""


def test_the_exported_bpmn_renders_in_bpmn_js() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() or not VIEWER.exists():
        pytest.fail("chromium or bpmn-js missing: run `bash scripts/ensure-system-deps.sh`.")
    eng, ivs, trs, els = se.load()
    h = assemble(eng, ivs, els, transcripts=trs, include_drafts=True)
    layout = handover_layout(h)
    xml = to_bpmn(layout)
    expected = len(re.findall(r"<bpmndi:BPMNShape ", xml))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 700}, locale="ja-JP")
            page.set_content(PAGE)
            page.add_script_tag(path=str(VIEWER))
            result = page.evaluate(CHECK, xml)
            page.screenshot(path=str(ARTIFACTS / "handover-bpmn-js.png"))
        finally:
            browser.close()
    assert "error" not in result, result
    assert result["warnings"] == [], json.dumps(result["warnings"], ensure_ascii=False)
    # the participant, the lanes and every node are drawn (labels are separate elements)
    assert result["shapes"] == expected
    assert result["outside"] == []
    assert result["connections"] == len(layout.edges)
    assert "発注の承認者" in " ".join(result["texts"])
