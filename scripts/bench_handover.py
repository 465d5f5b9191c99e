"""Build time of the hand-over package for a large synthetic engagement.

    flock /tmp/shikumi-cpu.lock .venv/bin/python scripts/bench_handover.py --items 620

Generates hearings whose steps are drawn from a pool of distinct work items (each told by one to
three people, with different amounts and deadlines now and then), stores them in a temporary
workspace database, and times ``from_store`` (consolidation, differences, workload) and
``build_zip`` (every file of the package).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from pipeline.handover.assemble import from_store
from pipeline.handover.package import build_zip
from pipeline.models import (
    Engagement,
    Evidence,
    Exception_,
    Interview,
    InterviewStatus,
    Judgment,
    ReviewStatus,
    RuleRow,
    Task,
)
from pipeline.store import Store

OBJECTS = [
    "請求書",
    "注文書",
    "見積書",
    "納品書",
    "経費申請",
    "勤怠データ",
    "給与明細",
    "契約書",
    "稟議書",
    "入金データ",
    "振込データ",
    "仕訳",
    "売上伝票",
    "在庫表",
    "出荷指示",
    "領収書",
    "名刺",
    "備品申請",
    "社用車予約",
    "取引先マスタ",
    "顧客台帳",
    "発注書",
    "検収書",
    "支払予定表",
    "試算表",
]
VERBS = [
    "を確認する",
    "を作成する",
    "を登録する",
    "を照合する",
    "を送付する",
    "を保管する",
    "を集計する",
    "を修正する",
    "を承認依頼する",
    "を入力する",
]
SYSTEMS = ["kintone", "freee", "Excel", "楽楽精算", "SAP", "会計システム", "メール"]
ROLES = ["経理担当", "総務担当", "営業事務", "購買担当", "人事担当", "課長"]
AREAS = ["経理", "総務", "人事", "購買", "営業事務"]


KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"


def pool(n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """Distinct (kind, object, verb) work items; each object carries a made-up client or
    product name (「ホノカの請求書」), so that different items do not read alike."""
    out: set[tuple[str, str, str]] = set()
    while len(out) < n:
        kind = rng.choices(["task", "judgment", "exception"], [6, 2, 2])[0]
        name = "".join(rng.choice(KANA) for _ in range(6))
        out.add((kind, f"{name}の{rng.choice(OBJECTS)}", rng.choice(VERBS)))
    return sorted(out)


def make(store: Store, hearings: int, items: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    work = pool(items, rng)
    eng = store.save_engagement(Engagement(id="eng_bench", name="ベンチマーク", client="架空商事"))
    told: list[list[int]] = [[] for _ in range(hearings)]
    for n in range(len(work)):
        for h in rng.sample(range(hearings), rng.choices([1, 2, 3], [6, 3, 1])[0]):
            told[h].append(n)
    for h in range(hearings):
        iv = store.add_interview(
            Interview(
                title=f"ヒアリング{h + 1}",
                engagement_id=eng.id,
                interviewee=f"担当者{h + 1}",
                business_area=rng.choice(AREAS),
                status=InterviewStatus.EXTRACTED,
            )
        )
        els = []
        pos = 0
        for n in sorted(told[h]):
            kind, obj, verb = work[n]
            text = f"{obj}{verb}"
            amount = rng.choice([5, 10, 30])
            quote = {
                "task": f"毎月{obj}{verb[:-1]}します。"
                f"月に{rng.randint(5, 80)}件で1件{rng.randint(3, 30)}分です",
                "judgment": f"{obj}は{amount}万円以上なら部長の承認が必要です",
                "exception": f"{obj}が届かない場合は{rng.choice(ROLES)}に連絡します",
            }[kind]
            ev = Evidence(
                quote=quote, char_start=pos, char_end=pos + len(quote), audio_start=pos / 10
            )
            pos += len(quote) + 1
            common = {"interview_id": iv.id, "summary": text, "evidence": [ev],
                      "status": ReviewStatus.APPROVED}  # fmt: skip
            if kind == "task":
                els.append(Task(action=text, actor=rng.choice(ROLES), systems=[rng.choice(SYSTEMS)],
                                inputs=[obj], frequency="毎月", **common))  # fmt: skip
            elif kind == "judgment":
                rules = [RuleRow(condition=f"{amount}万円以上", outcome="部長の承認"),
                         RuleRow(condition=f"{amount}万円未満", outcome="課長の承認")]  # fmt: skip
                els.append(Judgment(decision=f"{obj}の承認者", rules=rules, decider="課長／部長",
                                    **common))  # fmt: skip
            else:
                els.append(Exception_(trigger=f"{obj}が届かない", handling="担当者に連絡する",
                                      owner=rng.choice(ROLES), **common))  # fmt: skip
        store.add_elements(els)
    return eng.id


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hearings", type=int, default=10)
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        eng_id = make(store, args.hearings, args.items)
        n_el = len(store.list_elements())
        t0 = time.perf_counter()
        h = from_store(store, eng_id)
        t1 = time.perf_counter()
        data = build_zip(h)
        t2 = time.perf_counter()
        if args.out:
            Path(args.out).write_bytes(data)
    print(
        f"{args.hearings} hearings, {n_el} elements -> {len(h.items)} items, "
        f"{len(h.differences)} differences; assemble {t1 - t0:.1f} s, files+zip {t2 - t1:.1f} s, "
        f"total {t2 - t0:.1f} s, zip {len(data) / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
