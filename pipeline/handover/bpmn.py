"""The flow as BPMN 2.0 XML with diagram interchange (DI), from the swimlane layout.

One collaboration with one participant (pool) whose process has a lane per role; tasks are
``userTask``; judgments are ``exclusiveGateway`` with one labelled outgoing flow per rule;
exceptions are interrupting ``boundaryEvent``s on the task, leading to a handling task and an
end event. Ids are ASCII (bpmn-js rejects non-ASCII ids); Japanese goes in ``name`` only. Every
flow node and flow has a DI shape / edge, so bpmn.io and Camunda Modeler open it drawn.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .layout import POOL_HEADER, Layout

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
for _p, _u in NS.items():
    ET.register_namespace(_p, _u)


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


_TAG = {
    "start": "startEvent",
    "end": "endEvent",
    "task": "userTask",
    "gateway": "exclusiveGateway",
    "boundary": "boundaryEvent",
    "exception_task": "userTask",
    "exception_end": "endEvent",
}


def to_bpmn(layout: Layout, documentation: dict[str, str] | None = None) -> str:
    """BPMN 2.0 XML; ``documentation`` maps node ids to text (e.g. 業務ID and quotes)."""
    documentation = documentation or {}
    defs = ET.Element(
        _q("bpmn", "definitions"),
        {
            "id": "Definitions_shikumi",
            "targetNamespace": "https://shikumi.example/bpmn",
            "exporter": "Shikumi",
            "exporterVersion": "1",
        },
    )
    collab = ET.SubElement(defs, _q("bpmn", "collaboration"), {"id": "Collaboration_1"})
    ET.SubElement(
        collab,
        _q("bpmn", "participant"),
        {"id": "Participant_1", "name": layout.name, "processRef": "Process_1"},
    )
    proc = ET.SubElement(
        defs,
        _q("bpmn", "process"),
        {"id": "Process_1", "name": layout.name, "isExecutable": "false"},
    )
    lane_set = ET.SubElement(proc, _q("bpmn", "laneSet"), {"id": "LaneSet_1"})
    lane_refs: dict[str, ET.Element] = {}
    for lane in layout.lanes:
        el = ET.SubElement(lane_set, _q("bpmn", "lane"), {"id": lane.id, "name": lane.name})
        lane_refs[lane.name] = el
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for e in layout.edges:
        outgoing.setdefault(e.source, []).append(e.id)
        incoming.setdefault(e.target, []).append(e.id)
    for n in layout.nodes:
        attrs = {"id": n.id}
        if n.name:
            attrs["name"] = n.name
        if n.kind == "boundary":
            attrs["attachedToRef"] = n.attached_to
            attrs["cancelActivity"] = "true"
        node = ET.SubElement(proc, _q("bpmn", _TAG[n.kind]), attrs)
        if n.id in documentation:
            doc = ET.SubElement(node, _q("bpmn", "documentation"))
            doc.text = documentation[n.id]
        for fid in incoming.get(n.id, []):
            ET.SubElement(node, _q("bpmn", "incoming")).text = fid
        for fid in outgoing.get(n.id, []):
            ET.SubElement(node, _q("bpmn", "outgoing")).text = fid
        if n.kind in ("boundary",):
            ET.SubElement(node, _q("bpmn", "errorEventDefinition"), {"id": f"{n.id}_def"})
        ET.SubElement(lane_refs[n.lane], _q("bpmn", "flowNodeRef")).text = n.id
    for e in layout.edges:
        attrs = {"id": e.id, "sourceRef": e.source, "targetRef": e.target}
        if e.name:
            attrs["name"] = e.name
        ET.SubElement(proc, _q("bpmn", "sequenceFlow"), attrs)
    # ------------------------------------------------------------------ diagram interchange
    diagram = ET.SubElement(defs, _q("bpmndi", "BPMNDiagram"), {"id": "BPMNDiagram_1"})
    plane = ET.SubElement(
        diagram, _q("bpmndi", "BPMNPlane"), {"id": "BPMNPlane_1", "bpmnElement": "Collaboration_1"}
    )

    def shape(element: str, x: float, y: float, w: float, h: float, **extra: str) -> None:
        sh = ET.SubElement(
            plane,
            _q("bpmndi", "BPMNShape"),
            {"id": f"{element}_di", "bpmnElement": element, **extra},
        )
        ET.SubElement(
            sh, _q("dc", "Bounds"), {"x": _n(x), "y": _n(y), "width": _n(w), "height": _n(h)}
        )

    shape("Participant_1", 0, 0, layout.width, layout.height, isHorizontal="true")
    for lane in layout.lanes:
        shape(lane.id, POOL_HEADER, lane.y, layout.width - POOL_HEADER, lane.h, isHorizontal="true")
    for n in layout.nodes:
        extra = {"isMarkerVisible": "true"} if n.kind == "gateway" else {}
        shape(n.id, n.x, n.y, n.w, n.h, **extra)
    for e in layout.edges:
        edge = ET.SubElement(
            plane, _q("bpmndi", "BPMNEdge"), {"id": f"{e.id}_di", "bpmnElement": e.id}
        )
        for x, y in e.points:
            ET.SubElement(edge, _q("di", "waypoint"), {"x": _n(x), "y": _n(y)})
        if e.name and len(e.points) >= 2:
            lx, ly = e.label_xy()
            label = ET.SubElement(edge, _q("bpmndi", "BPMNLabel"))
            bounds = {"x": _n(lx), "y": _n(ly), "width": "100", "height": "14"}
            ET.SubElement(label, _q("dc", "Bounds"), bounds)
    ET.indent(defs)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(defs, encoding="unicode")


def _n(v: float) -> str:
    return str(round(v))
