"""Retrieval speed: query latency p50/p95 at 1k / 10k / 100k indexed elements, and build time.

What one query costs here is what the assistant pays: ``Retriever.search`` in hybrid mode =
embedding the question with the embedded model + chromadb HNSW search + BM25 over the keyword
index + fusion (+ fetching vectors of keyword-only hits). 2 threads; run it under the CPU lock:

    flock /tmp/shikumi-cpu.lock .venv/bin/python -m eval.bench_retrieval [--sizes 1000,10000,100000]

Documents: the 651 OR-ShARC snippets and the tuqulore handbook articles (real rule text, in
English and Japanese); larger indexes repeat them, each copy with a sentence from another one
appended so the keyword postings grow like a real index. Vectors: at 1k every document is
embedded for real (that is the measured build time). At 10k and 100k, embedding every copy
would take 3 and 30 minutes on 2 cores, so copies get the real vector of their base document
mixed with that of the appended one plus noise (normalised); the build time of those sizes is
the measured chromadb + keyword insert time plus the embedding time extrapolated from the
throughput measured at 1k (reported separately). Queries are embedded for real every time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.common import eval_data_dir
from eval.retrieval import load_handbook, load_or_sharc


def percentile(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p))


def corpus(data_dir: Path) -> tuple[list[str], list[str]]:
    sh_docs, sh_queries, _ = load_or_sharc(data_dir)
    hb_docs, hb_queries = load_handbook(data_dir)
    texts = [d.text for d in sh_docs] + [d.text for d in hb_docs]
    queries = [q.text for q in hb_queries] + [q.text for q in sh_queries[:50]]
    return texts, queries


def measure(sizes: list[int], work: Path, n_queries: int = 100) -> dict[str, Any]:
    from pipeline.adapters.embeddings import embedder_for
    from pipeline.adapters.vectorstore import ChromaVectorStore
    from pipeline.index import KnowledgeIndex
    from pipeline.retrieve import Retriever

    data = eval_data_dir()
    base, queries = corpus(data)
    emb = embedder_for("embedded")
    rng = np.random.default_rng(7)
    results: dict[str, Any] = {"embedder": emb.name, "sizes": {}}

    # real embedding of the base documents: the measured build throughput
    t0 = time.perf_counter()
    base_vecs = np.asarray(emb.embed_documents(base), dtype=np.float32)
    per_doc = (time.perf_counter() - t0) / len(base)
    results["embed_seconds_per_document"] = per_doc

    for n in sizes:
        path = work / f"bench-{n}"
        shutil.rmtree(path, ignore_errors=True)
        index = KnowledgeIndex(ChromaVectorStore(path, embed=emb))
        ids, texts, metas, vecs = [], [], [], []
        for i in range(n):
            a, b = i % len(base), (i * 7 + 3) % len(base)
            tail = base[b].split("\n")[0][:200]
            texts.append(base[a] if i < len(base) else f"{base[a]}\n{tail}")
            ids.append(f"E{i:06d}")
            kind = ("task", "judgment", "exception")[i % 3]
            metas.append(
                {"kind": kind, "business_area": f"a{i % 20}", "interview_id": f"i{i % 200}"}
            )
            if i < len(base):
                vecs.append(base_vecs[a])
            else:
                v = base_vecs[a] + 0.3 * base_vecs[b] + rng.normal(0, 0.02, base_vecs.shape[1])
                vecs.append((v / np.linalg.norm(v)).astype(np.float32))
        real = n <= len(base) or n <= 1000
        t0 = time.perf_counter()
        for s in range(0, n, 1000):
            chunk = slice(s, s + 1000)
            index.put(
                ids[chunk],
                texts[chunk],
                metas[chunk],
                None if real else [list(map(float, v)) for v in vecs[chunk]],
            )
        insert_s = time.perf_counter() - t0
        retriever = Retriever(index)
        retriever.search("warm up 経費", k=5)
        lat = []
        for q in (queries * (n_queries // len(queries) + 1))[:n_queries]:
            t = time.perf_counter()
            retriever.search(q, k=5)
            lat.append(1000 * (time.perf_counter() - t))
        row = {
            "indexed": index.count(),
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "mean_ms": statistics.fmean(lat),
            "queries": len(lat),
            "build_seconds": insert_s if real else insert_s + per_doc * n,
            "build_measured_seconds": insert_s,
            "build_embedding_extrapolated_seconds": 0.0 if real else per_doc * n,
            "real_vectors": real,
        }
        results["sizes"][str(n)] = row
        print(n, json.dumps(row), flush=True)
        index.vectors.close()
        shutil.rmtree(path, ignore_errors=True)
    return results


def run(ctx: Any) -> Any:
    """The harness task (``make bench``): quick 1k elements, full 1k/10k/100k."""
    from eval.common import Metric, Section

    sizes = [1000] if ctx.quick or ctx.smoke else [1000, 10000, 100000]
    res = measure(sizes, ctx.work_dir / "bench_retrieval", n_queries=30 if ctx.smoke else 100)
    metrics = []
    for n, row in res["sizes"].items():
        target = "< 100" if n == "10000" else ""
        metrics.append(Metric(f"query p95 ms at {n}", round(row["p95_ms"], 1), target=target))
        metrics.append(Metric(f"query p50 ms at {n}", round(row["p50_ms"], 1)))
        metrics.append(Metric(f"index build s at {n}", round(row["build_seconds"], 1)))
    return Section(
        task="bench/retrieval",
        metrics=metrics,
        config={"embedder": res["embedder"], "mode": "hybrid"},
        notes=["Build times above 1k include extrapolated embedding time (module docstring)."],
        details=res,
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--work", default="/tmp/shikumi-bench")
    p.add_argument("--queries", type=int, default=100)
    a = p.parse_args()
    res = measure([int(x) for x in a.sizes.split(",")], Path(a.work), a.queries)
    out = Path(a.work) / "bench_retrieval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print("written", out)


if __name__ == "__main__":
    main()
