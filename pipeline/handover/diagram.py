"""The hand-over flow as a layout (see ``layout``) and as pictures: SVG (text) and PNG (Pillow).

Exceptions hang off the task they interrupt: the member's ``interrupts`` when it points into
the flow, else the task told just before it in the same hearing (nearest in flow order).
"""

from __future__ import annotations

import io
from html import escape
from pathlib import Path

from ..inventory import start_of
from ..models import Exception_, Task
from .assemble import Handover, judgment_of, lane_of, sorted_flow
from .layout import (
    LANE_HEADER,
    POOL_HEADER,
    Layout,
    Node,
    Step,
    build_layout,
    wrap,
)

MAX_PNG_SIDE = 16000
FONT_FAMILY = "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif"


def steps_of(h: Handover) -> list[Step]:
    flow = sorted_flow(h)
    steps: list[Step] = []
    by_item: dict[str, Step] = {}
    last_lane = ""
    for item in flow:
        el = judgment_of(h, item) if item.kind == "judgment" else None
        lane = lane_of(h, item) or last_lane
        last_lane = lane or last_lane
        members = h.members(item)
        step = Step(item=item, lane=lane, element=el or (members[0] if members else None))
        steps.append(step)
        by_item[item.id] = step
    item_of = h.inventory.item_of()
    tasks = [s for s in steps if s.item.kind == "task"]
    for item in sorted((i for i in h.items if i.kind == "exception"), key=lambda i: i.order):
        exc = next((e for e in h.members(item) if isinstance(e, Exception_)), None)
        target: Step | None = None
        if exc is not None:
            # the step it interrupts, else the task told just before it in the same hearing
            ref = exc.interrupts or _task_before(h, exc)
            if ref and ref in item_of:
                target = by_item.get(item_of[ref])
        if target is None or target.item.kind != "task":
            before = [s for s in tasks if s.item.order <= item.order]
            target = before[-1] if before else (tasks[0] if tasks else None)
        if target is not None:
            target.exceptions.append((item, exc))
    return steps


def _task_before(h: Handover, exc: Exception_) -> str:
    pos = start_of(exc)
    same = [
        e
        for e in h.elements.values()
        if isinstance(e, Task) and e.interview_id == exc.interview_id and start_of(e) <= pos
    ]
    return max(same, key=start_of).id if same else ""


def handover_layout(h: Handover) -> Layout:
    name = h.engagement.client or h.engagement.name
    return build_layout(name, steps_of(h))


# --------------------------------------------------------------------------- SVG


def _text_lines(lines: list[str], cx: float, cy: float, size: int = 12) -> str:
    top = cy - (len(lines) - 1) * (size + 2) / 2
    return "".join(
        f'<text x="{cx:.1f}" y="{top + k * (size + 2):.1f}" font-size="{size}" '
        f'text-anchor="middle" dominant-baseline="middle">{escape(line)}</text>'
        for k, line in enumerate(lines)
    )


def _svg_node(n: Node, status: dict[str, bool]) -> str:
    draft = not status.get(n.item_id, True)
    dash = ' stroke-dasharray="5,3"' if draft else ""
    link_open = f'<a href="?item={escape(n.item_id)}" target="_self">' if n.item_id else ""
    link_close = "</a>" if n.item_id else ""
    title = f"<title>{escape(n.item_id)} {escape(n.name)}</title>" if n.item_id else ""
    if n.kind in ("task", "exception_task"):
        fill = "#fff3e0" if n.kind == "exception_task" else "#ffffff"
        stroke = "#ef6c00" if n.kind == "exception_task" else "#37474f"
        body = (
            f'<rect x="{n.x:.1f}" y="{n.y:.1f}" width="{n.w:.1f}" height="{n.h:.1f}" rx="8" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>'
            + _text_lines(wrap(n.name, n.w - 10), n.cx, n.cy)
        )
    elif n.kind == "gateway":
        pts = f"{n.cx},{n.y} {n.x + n.w},{n.cy} {n.cx},{n.y + n.h} {n.x},{n.cy}"
        lines = wrap(n.name, 150, lines=2)
        body = (
            f'<polygon points="{pts}" fill="#fffde7" stroke="#37474f" stroke-width="1.5"{dash}/>'
            f'<text x="{n.cx:.1f}" y="{n.cy + 4:.1f}" font-size="16" text-anchor="middle">×</text>'
            + _text_lines(lines, n.cx, n.y - 8 - (len(lines) - 1) * 7, 11)
        )
    else:
        r = n.w / 2
        width = "3" if n.kind in ("end", "exception_end") else "1.5"
        stroke = "#ef6c00" if n.kind in ("boundary", "exception_end") else "#37474f"
        body = (
            f'<circle cx="{n.cx:.1f}" cy="{n.cy:.1f}" r="{r:.1f}" fill="#ffffff" '
            f'stroke="{stroke}" stroke-width="{width}"/>'
        )
        if n.kind == "boundary":
            body += (
                f'<circle cx="{n.cx:.1f}" cy="{n.cy:.1f}" r="{r - 3:.1f}" fill="none" '
                f'stroke="{stroke}"/><text x="{n.cx:.1f}" y="{n.cy + 4:.1f}" font-size="12" '
                f'text-anchor="middle" fill="{stroke}">!</text>'
            )
        if n.name:
            body += _text_lines([n.name], n.cx, n.y + n.h + 10, 11)
    return f"{link_open}<g>{title}{body}</g>{link_close}"


def to_svg(layout: Layout, approved: dict[str, bool] | None = None) -> str:
    """The layout as a standalone SVG (Japanese labels; draft items drawn dashed)."""
    approved = approved or {}
    w, h = layout.width + 10, layout.height + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="-5 -5 {w:.0f} {h:.0f}" font-family="{FONT_FAMILY}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#546e7a"/></marker></defs>',
        f'<rect x="0" y="0" width="{layout.width:.1f}" height="{layout.height:.1f}" '
        'fill="#ffffff" stroke="#37474f" stroke-width="1.5"/>',
        f'<text x="{POOL_HEADER / 2:.1f}" y="{layout.height / 2:.1f}" font-size="13" '
        f'text-anchor="middle" transform="rotate(-90 {POOL_HEADER / 2:.1f} '
        f'{layout.height / 2:.1f})">{escape(layout.name)}</text>',
    ]
    for k, lane in enumerate(layout.lanes):
        fill = "#f7f9fa" if k % 2 else "#ffffff"
        out.append(
            f'<rect x="{POOL_HEADER}" y="{lane.y:.1f}" width="{layout.width - POOL_HEADER:.1f}" '
            f'height="{lane.h:.1f}" fill="{fill}" stroke="#90a4ae"/>'
        )
        cx, cy = POOL_HEADER + LANE_HEADER / 2, lane.y + lane.h / 2
        out.append(
            f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="12" text-anchor="middle" '
            f'transform="rotate(-90 {cx:.1f} {cy:.1f})">{escape(lane.name)}</text>'
        )
        out.append(
            f'<line x1="{POOL_HEADER + LANE_HEADER}" y1="{lane.y:.1f}" '
            f'x2="{POOL_HEADER + LANE_HEADER}" y2="{lane.y + lane.h:.1f}" stroke="#90a4ae"/>'
        )
    for e in layout.edges:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in e.points)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="#546e7a" stroke-width="1.2" '
            'marker-end="url(#arrow)"/>'
        )
        if e.name and len(e.points) >= 2:
            lx, ly = e.label_xy()
            out.append(
                f'<text x="{lx:.1f}" y="{ly + 11:.1f}" font-size="10" '
                f'fill="#37474f">{escape(e.name)}</text>'
            )
    for n in layout.nodes:
        out.append(_svg_node(n, approved))
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- PNG

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    for path in _FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def to_png(layout: Layout, scale: float = 1.5) -> bytes:
    """The same drawing as a PNG (for documents and slides), drawn with Pillow."""
    from PIL import Image, ImageDraw

    # a very long flow (hundreds of steps) is scaled down to stay a sane picture; the SVG and
    # the BPMN keep full size
    scale = min(scale, MAX_PNG_SIDE / max(layout.width + 10, layout.height + 10))

    def s(v: float) -> float:
        return v * scale

    img = Image.new("RGB", (int(s(layout.width + 10)), int(s(layout.height + 10))), "white")
    d = ImageDraw.Draw(img)
    f12, f10 = _font(max(4, int(12 * scale))), _font(max(4, int(10 * scale)))
    d.rectangle([s(0), s(0), s(layout.width), s(layout.height)], outline="#37474f", width=2)
    for k, lane in enumerate(layout.lanes):
        d.rectangle(
            [s(POOL_HEADER), s(lane.y), s(layout.width), s(lane.y + lane.h)],
            fill="#f7f9fa" if k % 2 else "#ffffff",
            outline="#90a4ae",
        )
        d.line(
            [
                s(POOL_HEADER + LANE_HEADER),
                s(lane.y),
                s(POOL_HEADER + LANE_HEADER),
                s(lane.y + lane.h),
            ],
            fill="#90a4ae",
        )
        # lane names written top-down, one character per line (Japanese reads well this way)
        chars = list(lane.name)[: int(lane.h // 16)]
        top = lane.y + lane.h / 2 - len(chars) * 7
        for c, ch in enumerate(chars):
            d.text((s(POOL_HEADER + 8), s(top + c * 14)), ch, font=f12, fill="#263238")
    for e in layout.edges:
        d.line([(s(x), s(y)) for x, y in e.points], fill="#546e7a", width=2)
        (x1, y1), (x2, y2) = e.points[-2], e.points[-1]
        _arrow(d, s(x1), s(y1), s(x2), s(y2))
        if e.name:
            lx, ly = e.label_xy()
            d.text((s(lx), s(ly)), e.name, font=f10, fill="#37474f")
    for n in layout.nodes:
        box = [s(n.x), s(n.y), s(n.x + n.w), s(n.y + n.h)]
        if n.kind in ("task", "exception_task"):
            fill = "#fff3e0" if n.kind == "exception_task" else "#ffffff"
            edge = "#ef6c00" if n.kind == "exception_task" else "#37474f"
            d.rounded_rectangle(box, radius=s(8), fill=fill, outline=edge, width=2)
            lines = wrap(n.name, n.w - 10)
            top = n.cy - (len(lines) - 1) * 7
            for k, line in enumerate(lines):
                d.text((s(n.cx), s(top + k * 14)), line, font=f12, fill="#263238", anchor="mm")
        elif n.kind == "gateway":
            d.polygon(
                [
                    (s(n.cx), s(n.y)),
                    (s(n.x + n.w), s(n.cy)),
                    (s(n.cx), s(n.y + n.h)),
                    (s(n.x), s(n.cy)),
                ],
                fill="#fffde7",
                outline="#37474f",
            )
            d.text((s(n.cx), s(n.cy)), "×", font=f12, fill="#263238", anchor="mm")
            for k, line in enumerate(wrap(n.name, 150, lines=2)):
                d.text((s(n.cx), s(n.y - 22 + k * 13)), line, font=f10, fill="#263238", anchor="mm")
        else:
            colour = "#ef6c00" if n.kind in ("boundary", "exception_end") else "#37474f"
            width = 3 if n.kind in ("end", "exception_end") else 2
            d.ellipse(box, fill="white", outline=colour, width=width)
            if n.name:
                d.text((s(n.cx), s(n.y + n.h + 10)), n.name, font=f10, fill="#263238", anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _arrow(d, x1: float, y1: float, x2: float, y2: float) -> None:  # type: ignore[no-untyped-def]
    import math

    ang = math.atan2(y2 - y1, x2 - x1)
    size = 9
    p1 = (x2 - size * math.cos(ang - 0.4), y2 - size * math.sin(ang - 0.4))
    p2 = (x2 - size * math.cos(ang + 0.4), y2 - size * math.sin(ang + 0.4))
    d.polygon([(x2, y2), p1, p2], fill="#546e7a")


def approved_map(h: Handover) -> dict[str, bool]:
    return {i.id: i.approved for i in h.inventory.items}


def task_count(h: Handover) -> int:
    return sum(1 for e in h.elements.values() if isinstance(e, Task))
