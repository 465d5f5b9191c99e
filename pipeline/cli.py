"""The ``shikumi`` command line: every stage, scriptable (``--workspace``, ``--json``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import cli_engagement
from .errors import ShikumiError
from .models import ELEMENT_KINDS, Answer, AnyElement, Interview, ReviewStatus
from .settings import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.workspace)


_OPENED: list[Any] = []  # workspaces a command opened: closed when it returns


def _workspace(args: argparse.Namespace) -> Any:
    from .workspace import Workspace

    ws = Workspace(_settings(args))
    _OPENED.append(ws)
    return ws


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _progress(args: argparse.Namespace) -> Callable[[str, float], None]:
    state = {"last": 0.0}

    def show(message: str, fraction: float) -> None:
        if args.json or (not sys.stderr.isatty() and time.monotonic() - state["last"] < 5):
            return
        state["last"] = time.monotonic()
        bar = "#" * int(30 * fraction)
        print(f"\r[{bar:<30}] {fraction:5.1%} {message:<40}", end="", file=sys.stderr, flush=True)
        if fraction >= 1:
            print(file=sys.stderr)

    return show


def _element_line(el: AnyElement) -> str:
    ev = el.evidence[0] if el.evidence else None
    where = ""
    if ev and ev.grounded and ev.audio_start is not None:
        where = f" @{ev.audio_start:.1f}s"
    flag = "" if el.grounded else " [UNGROUNDED]"
    if el.low_confidence:
        flag += " [LOW-CONFIDENCE]"
    return f"{el.id:6} {el.kind:9} {el.status.value:8} v{el.version} {el.summary}{where}{flag}"


def _interview_dump(ws: Any, interview: Interview) -> dict[str, Any]:
    elements = ws.store.list_elements(interview.id)
    chunks = ws.store.list_chunks(interview.id)
    return {
        "interview": interview.model_dump(mode="json"),
        "elements": [e.model_dump(mode="json") for e in elements],
        "usage": {
            "llm_calls": sum(c.calls for c in chunks),
            "prompt_tokens": sum(c.prompt_tokens for c in chunks),
            "completion_tokens": sum(c.completion_tokens for c in chunks),
            "failed_chunks": [c.index for c in chunks if c.status.value == "failed"],
        },
    }


def _interview_text(data: dict[str, Any], elements: list[AnyElement]) -> str:
    iv = data["interview"]
    lines = [f"{iv['id']}  {iv['title']}  [{iv['status']}]"]
    if iv.get("error"):
        lines.append(f"  ! {iv['error']}")
    u = data["usage"]
    lines.append(
        f"  {len(elements)} elements; {u['llm_calls']} LLM calls, "
        f"{u['prompt_tokens']}+{u['completion_tokens']} tokens"
    )
    lines += ["  " + _element_line(e) for e in elements]
    return "\n".join(lines)


# --------------------------------------------------------------------------- commands


def cmd_models(args: argparse.Namespace) -> int:
    from .local_models import prepare_all

    paths = prepare_all(_settings(args).cache_dir, progress=lambda m: print(m, file=sys.stderr))
    _emit(args, {"models": [str(p) for p in paths]}, "\n".join(str(p) for p in paths))
    return 0


def _import(ws: Any, args: argparse.Namespace) -> Interview:
    roles = [r.strip() for r in (args.roles or "").split(",") if r.strip()]
    if getattr(args, "engagement", ""):
        ws.store.get_engagement(args.engagement)  # unknown: fail before importing anything
    interview: Interview = ws.import_audio(
        Path(args.audio), args.title or "", args.area or "", roles, args.language
    )
    return cli_engagement.assign(ws, interview, args)


def cmd_import(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    interview = _import(ws, args)
    _emit(args, interview.model_dump(mode="json"), f"{interview.id}  {interview.title}")
    return 0


def _resolve_interview(ws: Any, target: str, args: argparse.Namespace) -> str:
    if Path(target).exists():
        args.audio = target
        return str(_import(ws, args).id)
    return target


def cmd_transcribe(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    iid = _resolve_interview(ws, args.target, args)
    transcript = ws.transcribe(iid, _progress(args))
    if args.json:
        _emit(args, transcript.model_dump(mode="json"), "")
    else:
        for s in transcript.segments:
            flags = f" [{','.join(s.flags)}]" if s.flags else ""
            print(f"{iid} {s.id} {s.start:7.2f}-{s.end:7.2f} {s.speaker:11} {s.text}{flags}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .errors import NotFoundError
    from .export import export

    if args.interview == "package":
        return cli_engagement.export_package(args)
    ws = _workspace(args)
    transcript = ws.store.get_transcript(args.interview)
    if transcript is None:
        ws.store.get_interview(args.interview)  # unknown id: says how to list them
        raise NotFoundError(
            f"Interview {args.interview} has no transcript yet.",
            f"Run `shikumi transcribe {args.interview}` first.",
        )
    text = export(transcript, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{args.output}: {len(transcript.segments)} segments", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    ws.extract(args.interview, _progress(args), retry_failed_only=args.retry_failed)
    interview = ws.store.get_interview(args.interview)
    data = _interview_dump(ws, interview)
    _emit(args, data, _interview_text(data, ws.store.list_elements(interview.id)))
    return 0


def cmd_followups(args: argparse.Namespace) -> int:
    from .followups import follow_ups

    ws = _workspace(args)
    interview = ws.store.get_interview(args.interview)
    lang = interview.language.value if interview.language else "ja"
    questions = follow_ups(ws.store.list_elements(interview.id), lang)
    _emit(
        args,
        [q.model_dump(mode="json") for q in questions],
        "\n".join(f"{q.element_id:6} {q.question}" for q in questions)
        or "No gaps found: nothing to ask.",
    )
    return 0


def cmd_process(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    interview = _import(ws, args)
    ws.process(interview.id, _progress(args))
    interview = ws.store.get_interview(interview.id)
    data = _interview_dump(ws, interview)
    _emit(args, data, _interview_text(data, ws.store.list_elements(interview.id)))
    return 1 if interview.error else 0


def cmd_interviews(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    items = ws.store.list_interviews()
    _emit(
        args,
        [i.model_dump(mode="json") for i in items],
        "\n".join(f"{i.id}  {i.status.value:12} {i.title}" for i in items) or "(no interviews)",
    )
    return 0


def cmd_elements(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    items = ws.store.list_elements(args.interview, args.kind, args.status)
    _emit(
        args,
        [e.model_dump(mode="json") for e in items],
        "\n".join(_element_line(e) for e in items) or "(no elements)",
    )
    return 0


def _review(args: argparse.Namespace, action: str) -> int:
    ws = _workspace(args)
    who = args.who or ws.settings.reviewer
    if getattr(args, "all", False):
        if action != "approve":
            raise ShikumiError("--all is only for approve.", f"Name the ids to {action}.")
        done = ws.approve_all(args.interview, who)
    elif args.ids:
        done = ws.reviewer.bulk(args.ids, action, who)
    else:
        raise ShikumiError(f"Nothing to {action}.", "Give element ids, or --all to approve drafts.")
    _emit(
        args,
        [e.model_dump(mode="json") for e in done],
        "\n".join(_element_line(e) for e in done) or "(nothing changed)",
    )
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    n = ws.rebuild_index()
    _emit(args, {"indexed": n}, f"Index rebuilt: {n} approved elements.")
    return 0


def answer_text(answer: Answer) -> str:
    lines = [answer.text, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            t = f" @{c.audio_start:.1f}s" if c.audio_start is not None else ""
            lines.append(f"  [{c.element_id}] {c.summary} — {c.interview_title}{t}")
    lines.append(f"covered: {'yes' if answer.covered else 'no'}")
    lines += [f"warning: {w}" for w in answer.warnings]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    filters = {"area": args.area or None, "interview": args.interview or None,
               "kinds": args.kind or None}  # fmt: skip
    if args.json or args.no_stream:
        answer = ws.assistant.ask(args.question, **filters)
        _emit(args, answer.model_dump(mode="json"), answer_text(answer))
        return 0
    shown = ""
    for item in ws.assistant.ask_stream(args.question, **filters):
        if isinstance(item, str):  # a statement that passed the citation check
            print(item, end="", flush=True)
            shown += item
        elif shown and shown.strip() == item.text:
            print(answer_text(item)[len(item.text) :])  # sources, coverage, warnings
        else:  # nothing streamed, or the checked answer differs: it is authoritative
            print(("\n---\n" if shown else "") + answer_text(item))
    return 0


def cmd_open_questions(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    if args.resolve is not None:
        ws.store.resolve_open_question(args.resolve)
    questions = ws.store.list_open_questions(include_resolved=args.all)
    _emit(
        args,
        [q.model_dump(mode="json") for q in questions],
        "\n".join(
            f"{q.id:4} ×{q.count:<3} {q.last_asked:%Y-%m-%d} {'[resolved] ' if q.resolved else ''}"
            f"{q.question}"
            for q in questions
        )
        or "(no open questions)",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .jobs import recover_stale, work

    ws = _workspace(args)
    lease = ws.settings.job_lease_s
    recover_stale(ws.store, lease)
    n = work(ws, idle_exit_s=None if args.forever else args.idle_exit, lease_s=lease)
    _emit(args, {"jobs": n}, f"worker: {n} job(s) done")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """The local user store: adding the first user turns login on in the app."""
    import getpass
    import os

    from .auth import new_user

    ws = _workspace(args)
    if args.action == "remove" and not ws.store.delete_user(args.name):
        raise ShikumiError(f"No user {args.name!r}.", "List them with `shikumi users list`.")
    if args.action == "add":
        if not args.name:
            raise ShikumiError("`shikumi users add` needs a user name.", "Add NAME after `add`.")
        password = os.environ.get("SHIKUMI_NEW_PASSWORD") or (
            getpass.getpass(f"Password for {args.name}: ")
            if sys.stdin.isatty()
            else sys.stdin.readline().rstrip("\n")
        )
        user = ws.store.save_user(new_user(args.name, args.role, password))
        for eid in args.engagement or []:
            eng = ws.store.get_engagement(eid)
            if user.name not in eng.members:
                eng.members.append(user.name)
                ws.store.save_engagement(eng)
    users = ws.store.list_users()
    members = {
        u.name: [e.id for e in ws.store.list_engagements() if u.name in e.members] for u in users
    }
    _emit(
        args,
        [{"name": u.name, "role": u.role, "engagements": members[u.name]} for u in users],
        "\n".join(f"{u.name:20} {u.role:11} {', '.join(members[u.name])}" for u in users)
        or "(no users: the app runs as one local admin without login)",
    )
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    """Register the sample hearings (once) and queue them for processing."""
    from .jobs import enqueue, ensure_worker
    from .sample_engagement import attach_sample
    from .samples import list_samples

    ws = _workspace(args)
    known = {i.title for i in ws.store.list_interviews()}
    added = []
    for sample in list_samples(include_smoke=args.smoke):
        if sample.title in known:
            continue
        iv = ws.import_audio(
            sample.audio,
            sample.title,
            sample.business_area,
            sample.roles,
            sample.language,
            sample.interview_date,
        )
        iv = attach_sample(ws.store, iv, sample.script)
        enqueue(ws.store, iv.id)
        added.append(iv)
    if added and not args.no_worker and ws.settings.local_worker:
        ensure_worker(ws.settings.workspace)
    _emit(
        args,
        [i.model_dump(mode="json") for i in added],
        f"{len(added)} sample hearing(s) queued for processing"
        + ("" if args.no_worker else " (a background worker processes them)."),
    )
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--workspace", default=argparse.SUPPRESS, help="folder for database, index and uploads"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )

    meta = argparse.ArgumentParser(add_help=False)
    meta.add_argument("--title", default="")
    meta.add_argument("--area", default="", help="business area, e.g. 経費精算")
    meta.add_argument("--roles", default="", help="interviewee roles, comma-separated")
    meta.add_argument("--language", choices=["ja", "en"], default=None)
    meta.add_argument("--engagement", default="", help="engagement id (default: the default one)")
    meta.add_argument("--interviewee", default="", help="who was heard (name)")

    p = argparse.ArgumentParser(prog="shikumi", description=__doc__, parents=[common])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("models", parents=[common], help="assemble and verify the embedded models")
    s.add_argument("action", choices=["prepare"])
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("import", parents=[common, meta], help="store an audio file as an interview")
    s.add_argument("audio")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("transcribe", parents=[common, meta], help="transcribe a file or interview")
    s.add_argument("target", help="audio file, or the id of an imported interview")
    s.set_defaults(func=cmd_transcribe)

    s = sub.add_parser(
        "export",
        parents=[common],
        help="export a transcript (txt/srt/vtt/json), or `export package --engagement ID`",
    )
    s.add_argument("interview", help="interview id, or `package` for the hand-over package")
    s.add_argument("--format", choices=["txt", "srt", "vtt", "json"], default="txt")
    s.add_argument("-o", "--output", "--out", help="file to write (default: standard output)")
    s.add_argument("--engagement", default="", help="package: the engagement id")
    s.add_argument("--include-drafts", action="store_true", help="package: drafts too (marked)")
    s.set_defaults(func=cmd_export)
    cli_engagement.add_parsers(sub, common)

    s = sub.add_parser("extract", parents=[common], help="extract elements from a transcript")
    s.add_argument("interview")
    s.add_argument("--retry-failed", action="store_true", help="re-run only the failed chunks")
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser(
        "followups", parents=[common], help="follow-up questions for the next hearing"
    )
    s.add_argument("interview")
    s.set_defaults(func=cmd_followups)

    s = sub.add_parser("process", parents=[common, meta], help="transcribe + extract an audio file")
    s.add_argument("audio")
    s.set_defaults(func=cmd_process)

    s = sub.add_parser("interviews", parents=[common], help="list interviews")
    s.set_defaults(func=cmd_interviews)

    s = sub.add_parser("elements", parents=[common], help="list elements")
    s.add_argument("--interview")
    s.add_argument("--kind", choices=list(ELEMENT_KINDS))
    s.add_argument("--status", choices=[x.value for x in ReviewStatus])
    s.set_defaults(func=cmd_elements)

    for action in ("approve", "reject", "retire"):
        s = sub.add_parser(action, parents=[common], help=f"{action} elements")
        s.add_argument("ids", nargs="*")
        s.add_argument("--who", default="")
        s.add_argument("--interview", help="with --all: only this interview")
        if action == "approve":
            s.add_argument("--all", action="store_true", help="approve all drafts")
        s.set_defaults(func=lambda a, act=action: _review(a, act))

    s = sub.add_parser("index", parents=[common], help="rebuild the knowledge index")
    s.add_argument("action", choices=["rebuild"])
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("ask", parents=[common], help="ask the assistant a question")
    s.add_argument("question")
    s.add_argument("--area", default="", help="only rules of this business area")
    s.add_argument("--interview", default="", help="only rules from this interview id")
    s.add_argument("--kind", action="append", choices=list(ELEMENT_KINDS), help="repeatable")
    s.add_argument("--no-stream", action="store_true", help="print the answer when complete")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser(
        "open-questions", parents=[common], help="questions the assistant could not answer"
    )
    s.add_argument("--all", action="store_true", help="include resolved questions")
    s.add_argument("--resolve", type=int, metavar="ID", help="mark a question resolved")
    s.set_defaults(func=cmd_open_questions)

    s = sub.add_parser("worker", parents=[common], help="process queued jobs")
    s.add_argument("--idle-exit", type=float, default=30.0, help="exit after N idle seconds")
    s.add_argument(
        "--forever", action="store_true", help="never exit when idle (a worker machine's service)"
    )
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("users", parents=[common], help="list or add users (login and roles)")
    s.add_argument("action", choices=["list", "add", "remove"])
    s.add_argument("name", nargs="?", default="")
    s.add_argument("--role", choices=["consultant", "operator", "admin"], default="consultant")
    s.add_argument(
        "--engagement", action="append", help="make the user a member of this engagement"
    )
    s.set_defaults(func=cmd_users)

    s = sub.add_parser("samples", parents=[common], help="load the sample hearings")
    s.add_argument("action", choices=["load"])
    s.add_argument("--smoke", action="store_true", help="include the short smoke hearing")
    s.add_argument("--no-worker", action="store_true", help="only queue; do not start a worker")
    s.set_defaults(func=cmd_samples)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.workspace = getattr(args, "workspace", None)
    args.json = getattr(args, "json", False)
    try:
        return int(args.func(args))
    except ShikumiError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.message, "hint": exc.hint}, ensure_ascii=False))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.hint:
                print(f"  → {exc.hint}", file=sys.stderr)
        return 2
    finally:
        while _OPENED:  # database connections and the Chroma client, released
            _OPENED.pop().close()


if __name__ == "__main__":
    sys.exit(main())
