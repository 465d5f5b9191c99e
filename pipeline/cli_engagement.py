"""CLI for engagements and the hand-over package (wired into ``pipeline.cli``):

shikumi export package --engagement ID [--include-drafts] [--out FILE]
shikumi engagement list | sample | inventory ID | differences ID
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def cmd_export_package(args: argparse.Namespace, ws: Any, emit: Any) -> int:
    from .errors import ShikumiError
    from .handover.assemble import from_store
    from .handover.package import build_zip

    if not args.engagement:
        raise ShikumiError(
            "Which engagement? `export package` needs --engagement ID.",
            "List them with `shikumi engagement list`.",
        )
    started = time.perf_counter()
    h = from_store(ws.store, args.engagement, include_drafts=args.include_drafts)
    data = build_zip(h)
    out = Path(args.output or f"handover-{args.engagement}.zip")
    out.write_bytes(data)
    seconds = time.perf_counter() - started
    summary = {
        "file": str(out),
        "bytes": len(data),
        "items": len(h.items),
        "drafts": sum(1 for i in h.items if not i.approved),
        "differences": len(h.differences),
        "seconds": round(seconds, 2),
    }
    emit(
        args,
        summary,
        f"{out}: {len(h.items)} items, {summary['differences']} differences, "
        f"{summary['drafts']} drafts ({seconds:.1f} s)",
    )
    return 0


def assign(ws: Any, interview: Any, args: argparse.Namespace) -> Any:
    """`import` / `process` with --engagement / --interviewee: the hearing joins that engagement."""
    engagement = getattr(args, "engagement", "") or ""
    interviewee = getattr(args, "interviewee", "") or ""
    if not engagement and not interviewee:
        return interview
    if engagement:
        ws.store.get_engagement(engagement)  # unknown id: the error says how to list them
        interview.engagement_id = engagement
    if interviewee:
        interview.interviewee = interviewee
    return ws.store.save_interview(interview)


def areas_tree(spec: str) -> list[Any]:
    """「購買・支払>購買申請・発注, 購買・支払>検収」 -> a 大分類 / 中分類 tree."""
    from .models import BusinessArea

    tree: dict[str, list[str]] = {}
    for path in (p.strip() for p in spec.split(",") if p.strip()):
        big, _, mid = (x.strip() for x in path.partition(">"))
        tree.setdefault(big, [])
        if mid and mid not in tree[big]:
            tree[big].append(mid)
    return [
        BusinessArea(name=b, children=[BusinessArea(name=m) for m in ms]) for b, ms in tree.items()
    ]


def cmd_engagement(args: argparse.Namespace, ws: Any, emit: Any) -> int:
    from .errors import ShikumiError

    if args.action == "create":
        from .models import Engagement

        if not args.name:
            raise ShikumiError(
                "`engagement create` needs --name.", "e.g. --name 経理BPO --client 架空商事"
            )
        eng = Engagement(
            name=args.name,
            client=args.client,
            areas=areas_tree(args.areas),
            glossary=[g.strip() for g in args.glossary.split(",") if g.strip()],
        )
        if args.id:
            eng.id = args.id
        ws.store.save_engagement(eng)
        emit(args, eng.model_dump(mode="json"), f"{eng.id}  {eng.name}")
        return 0
    if args.action == "list":
        rows = []
        for e in ws.store.list_engagements():
            n = len(ws.store.list_engagement_interviews(e.id))
            rows.append({"id": e.id, "name": e.name, "client": e.client, "hearings": n})
        emit(
            args,
            rows,
            "\n".join(f"{r['id']}\t{r['name']}\t{r['hearings']} hearing(s)" for r in rows),
        )
        return 0
    if args.action == "sample":
        from .sample_engagement import load_into

        eng = load_into(ws.store, approve=not args.drafts)
        emit(args, {"id": eng.id}, f"sample engagement {eng.id} loaded ({eng.name})")
        return 0
    if not args.id:
        raise ShikumiError(
            f"`engagement {args.action}` needs an engagement id.", "See `shikumi engagement list`."
        )
    from .handover.assemble import from_store

    h = from_store(ws.store, args.id, include_drafts=True)
    if args.action == "inventory":
        rows = [
            {
                "id": i.id,
                "kind": i.kind,
                "name": i.name,
                "area": i.area,
                "members": i.members,
                "people": i.people,
                "single_source": i.single_source,
                "approved": i.approved,
            }
            for i in h.inventory.items
        ]
        text = "\n".join(
            f"{r['id']}\t{r['kind']}\t{'/'.join(r['area'])}\t{r['name']}\t{','.join(r['people'])}"
            + ("\t(一人のみ)" if r["single_source"] else "")
            for r in rows
        )
        emit(args, rows, text)
        return 0
    rows = [d.model_dump(mode="json") for d in h.differences]
    emit(
        args,
        rows,
        "\n\n".join(f"{d.id} [{d.kind}] {d.summary}\n  → {d.question}" for d in h.differences),
    )
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser(
        "engagement", parents=[common], help="engagements: list, sample, inventory, differences"
    )
    s.add_argument("action", choices=["list", "create", "sample", "inventory", "differences"])
    s.add_argument("id", nargs="?", default="")
    s.add_argument("--drafts", action="store_true", help="sample: load the elements as drafts")
    s.add_argument("--name", default="", help="create: the engagement's name")
    s.add_argument("--client", default="", help="create: the client company")
    s.add_argument("--areas", default="", help="create: 大分類>中分類, comma-separated")
    s.add_argument("--glossary", default="", help="create: client terms, comma-separated")
    s.set_defaults(func=_engagement)


def _engagement(args: argparse.Namespace) -> int:
    from .cli import _emit, _workspace

    return cmd_engagement(args, _workspace(args), _emit)


def export_package(args: argparse.Namespace) -> int:
    from .cli import _emit, _workspace

    return cmd_export_package(args, _workspace(args), _emit)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
