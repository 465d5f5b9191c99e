"""The swimlane layout of the flow: one pool, a lane per role, the steps left to right in flow
order, a gateway per judgment with its rule outcomes, and each exception as a boundary event on
the step it interrupts with its handling below, in the same lane.

One layout feeds the BPMN diagram interchange, the SVG/PNG pictures and the app's flow page, so
all of them show the same drawing. Coordinates are in pixels; every box holds a short label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from ..inventory import InventoryItem, short_label
from ..models import AnyElement, Exception_, Judgment, Task

NodeKind = Literal["start", "end", "task", "gateway", "boundary", "exception_task", "exception_end"]

POOL_HEADER = 30  # the pool's name band (vertical text on the left)
LANE_HEADER = 30  # each lane's name band
COL = 190  # column pitch
ROW = 100  # row pitch inside a lane
TASK_W, TASK_H = 120, 64
GW = 50
EV = 36
MARGIN = 20


@dataclass
class Node:
    id: str  # ASCII (bpmn-js rejects non-ASCII ids)
    kind: NodeKind
    name: str
    lane: str
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    item_id: str = ""
    attached_to: str = ""  # boundary events: the task id

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Edge:
    id: str
    source: str
    target: str
    name: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)
    label_at: tuple[float, float] | None = None  # top-left of the label, when named

    def label_xy(self) -> tuple[float, float]:
        if self.label_at is not None:
            return self.label_at
        (x1, y1), (x2, y2) = self.points[0], self.points[1]
        return ((x1 + x2) / 2 + 4, (y1 + y2) / 2 - 16)


@dataclass
class Lane:
    id: str
    name: str
    y: float = 0.0
    h: float = 0.0


@dataclass
class Layout:
    name: str
    lanes: list[Lane]
    nodes: list[Node]
    edges: list[Edge]
    width: float = 0.0
    height: float = 0.0

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


def ascii_id(prefix: str, raw: str) -> str:
    """An XML NCName of ASCII letters, digits and underscores, stable for the same input."""
    text = unicodedata.normalize("NFKC", raw)
    safe = re.sub(r"[^A-Za-z0-9_]", "_", text.encode("ascii", "ignore").decode())
    safe = re.sub(r"_+", "_", safe).strip("_")
    if not safe or len(safe) < len(text) / 2:
        # mostly non-ASCII: a short stable hash keeps it unique and ASCII
        import hashlib

        safe = (safe + "_" if safe else "") + hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{prefix}_{safe}"


def wrap(text: str, width_px: float, font_px: float = 12, lines: int = 3) -> list[str]:
    """Wrap by display width (CJK characters count double), at most ``lines`` lines."""
    per_line = max(4, int(width_px / (font_px * 0.55)))
    out: list[str] = []
    cur, cur_w = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if cur_w + w > per_line:
            out.append(cur)
            cur, cur_w = "", 0
        cur += ch
        cur_w += w
    if cur:
        out.append(cur)
    if len(out) > lines:
        out = [*out[: lines - 1], out[lines - 1][:-1] + "…"]
    return out


@dataclass
class Step:
    """A flow step as the layout needs it (built from an inventory item and its members)."""

    item: InventoryItem
    lane: str
    element: AnyElement | None = None
    exceptions: list[tuple[InventoryItem, Exception_ | None]] = field(default_factory=list)


def _rule_labels(j: Judgment) -> list[str]:
    labels = []
    for r in j.rules[:3]:
        cond = short_label_text(r.condition, 14)
        labels.append(cond or short_label_text(r.outcome, 14))
    return labels


def short_label_text(text: str, limit: int) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_layout(name: str, steps: list[Step], default_lane: str = "担当者未定") -> Layout:
    lane_names: list[str] = []
    for s in steps:
        s.lane = s.lane or (lane_names[-1] if lane_names else default_lane)
        if s.lane not in lane_names:
            lane_names.append(s.lane)
    if not lane_names:
        lane_names = [default_lane]
    # rows per lane: the main row plus as many exception rows as any column needs
    rows = {ln: 1 for ln in lane_names}
    for s in steps:
        rows[s.lane] = max(rows[s.lane], 1 + len(s.exceptions))
    lanes: list[Lane] = []
    y = 0.0
    for n, ln in enumerate(lane_names):
        h = rows[ln] * ROW + 20
        lanes.append(Lane(id=f"Lane_{n + 1}", name=ln, y=y, h=h))
        y += h
    lane_by = {ln.name: ln for ln in lanes}
    x0 = POOL_HEADER + LANE_HEADER + MARGIN
    nodes: list[Node] = []
    edges: list[Edge] = []

    def main_y(lane: str, height: float) -> float:
        ln = lane_by[lane]
        return ln.y + 10 + (ROW - height) / 2

    first_lane = steps[0].lane if steps else lane_names[0]
    start = Node("StartEvent_1", "start", "開始", first_lane, x0, main_y(first_lane, EV), EV, EV)
    nodes.append(start)
    prev = start
    col_x = x0 + EV + 50
    pending: list[tuple[Node, str]] = []  # (gateway, label) flows waiting for the next step
    for s in steps:
        is_gw = s.item.kind == "judgment"
        w, h = (GW, GW) if is_gw else (TASK_W, TASK_H)
        node = Node(
            ascii_id("Gateway" if is_gw else "Task", s.item.id),
            "gateway" if is_gw else "task",
            s.item.name,
            s.lane,
            col_x + (TASK_W - w) / 2,
            main_y(s.lane, h),
            w,
            h,
            item_id=s.item.id,
        )
        nodes.append(node)
        _connect(edges, prev, node, pending)
        pending = []
        prev = node
        if is_gw and isinstance(s.element, Judgment) and s.element.rules:
            labels = _rule_labels(s.element)
            pending = [(node, lb) for lb in labels]
        # exceptions: a boundary event on the task, the handling below it in the same lane
        for k, (exc_item, _exc) in enumerate([] if is_gw else s.exceptions):
            ex_id = ascii_id("Exc", exc_item.id)
            be = Node(
                f"Boundary_{ex_id[4:]}",
                "boundary",
                "",
                s.lane,
                node.x + 4 + (k % 3) * (EV + 2),
                node.y + node.h - EV / 2,
                EV,
                EV,
                item_id=exc_item.id,
                attached_to=node.id,
            )
            handling = _exc.handling if _exc is not None and _exc.handling else ""
            et = Node(
                f"Task_{ex_id}",
                "exception_task",
                short_label_text(handling, 24) if handling else exc_item.name,
                s.lane,
                col_x,
                lane_by[s.lane].y + 10 + ROW * (k + 1) + (ROW - TASK_H) / 2,
                TASK_W,
                TASK_H,
                item_id=exc_item.id,
            )
            ee = Node(
                f"End_{ex_id}",
                "exception_end",
                "",
                s.lane,
                col_x + TASK_W + 4,
                et.cy - EV / 2,
                EV,
                EV,
            )
            nodes += [be, et, ee]
            # down from the event, left into a channel before the column, down, into the task
            lane_x = col_x - 8 - 4 * k
            below = node.y + node.h + EV / 2 + 6
            down = [
                (be.cx, be.y + be.h),
                (be.cx, below),
                (lane_x, below),
                (lane_x, et.cy),
                (et.x, et.cy),
            ]
            edges.append(
                Edge(
                    f"Flow_{be.id}",
                    be.id,
                    et.id,
                    short_label_text(exc_item.name, 16),
                    down,
                    label_at=(et.x + 2, et.y - 15),
                )
            )
            edges.append(
                Edge(f"Flow_{et.id}", et.id, ee.id, points=[(et.x + et.w, et.cy), (ee.x, ee.cy)])
            )
        col_x += COL
    last_lane = steps[-1].lane if steps else lane_names[0]
    end = Node(
        "EndEvent_1",
        "end",
        "終了",
        last_lane,
        col_x + (TASK_W - EV) / 2,
        main_y(last_lane, EV),
        EV,
        EV,
    )
    nodes.append(end)
    _connect(edges, prev, end, pending)
    width = col_x + TASK_W + MARGIN
    return Layout(name=name, lanes=lanes, nodes=nodes, edges=edges, width=width, height=y)


def _connect(edges: list[Edge], a: Node, b: Node, pending: list[tuple[Node, str]]) -> None:
    if pending:
        for k, (gw, label) in enumerate(pending):
            if k == 0:
                pts = _route(gw, b)
            else:  # the other outcomes go round below the gateway, each a little lower
                low = max(gw.y + gw.h, b.y + b.h) + 12 * k
                pts = [(gw.cx, gw.y + gw.h), (gw.cx, low), (b.cx, low), (b.cx, b.y + b.h)]
            edges.append(Edge(f"Flow_{gw.id}_{k + 1}", gw.id, b.id, label, pts))
        return
    edges.append(Edge(f"Flow_{a.id}_{b.id}"[:120], a.id, b.id, points=_route(a, b)))


def _route(a: Node, b: Node) -> list[tuple[float, float]]:
    if abs(a.cy - b.cy) < 1:
        return [(a.x + a.w, a.cy), (b.x, b.cy)]
    mid = b.x - 24 if b.x - 24 > a.x + a.w else (a.x + a.w + b.x) / 2
    return [(a.x + a.w, a.cy), (mid, a.cy), (mid, b.cy), (b.x, b.cy)]


def step_of(item: InventoryItem, element: AnyElement | None, lane: str) -> Step:
    return Step(item=item, lane=lane, element=element)


def label_for(el: AnyElement) -> str:
    return short_label(el)


def is_task(el: AnyElement | None) -> bool:
    return isinstance(el, Task)
