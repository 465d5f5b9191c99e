"""The same index code against a Chroma server (``chroma run`` on loopback, HttpClient)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.adapters.vectorstore import ChromaVectorStore
from pipeline.errors import ConfigError
from pipeline.index import KnowledgeIndex
from pipeline.models import Interview, Judgment, Task
from pipeline.retrieve import Filters, Retriever
from pipeline.settings import load_settings
from pipeline.workspace import Workspace
from tests.conftest import FakeChat, FakeEmbedder

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    exe = str(CHROMA) if CHROMA.exists() else shutil.which("chroma")
    if exe is None:
        pytest.fail("the `chroma` command (from the chromadb package) is not installed")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not start: {(data / 'server.log').read_text()}")
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_store_operations_over_http(chroma_server: tuple[str, int]) -> None:
    host, port = chroma_server
    store = ChromaVectorStore(host=host, port=port, collection="ops", embed=FakeEmbedder())
    store.reset()
    gen = store.generation
    store.upsert(
        ["J0001", "T0001"], ["部長が承認する", "申請する"], [{"kind": "judgment"}, {"kind": "task"}]
    )
    assert store.generation != gen and store.current_generation() == store.generation
    assert sorted(store.all_ids()) == ["J0001", "T0001"]
    hits = store.query(store.embed_query("部長の承認"), 1, {"kind": {"$in": ["judgment"]}})
    assert [h.id for h in hits] == ["J0001"] and 0 <= hits[0].distance < 1
    store.delete(["J0001"])
    assert [h.id for h in store.iter_all()] == ["T0001"]
    store.close()


def test_hybrid_retrieval_over_http(chroma_server: tuple[str, int]) -> None:
    host, port = chroma_server
    index = KnowledgeIndex(
        ChromaVectorStore(host=host, port=port, collection="hyb", embed=FakeEmbedder())
    )
    index.vectors.reset()
    index.put(
        ["X0001", "J0001"],
        ["領収書を紛失した場合は出金伝票で代用します。", "5万円を超える経費は部長承認です。"],
        [{"kind": "exception"}, {"kind": "judgment"}],
    )
    res = Retriever(index).search("出金伝票", k=2, filters=Filters(kinds=["exception"]))
    assert [r.id for r in res] == ["X0001"] and res[0].keyword > 0
    index.vectors.close()


def test_workspace_reviews_and_answers_through_the_server(
    chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    host, port = chroma_server
    settings = load_settings(tmp_path / "ws", chroma_host=host, chroma_port=port)
    ws = Workspace(settings, llm=FakeChat(["部長が承認します。[J0001]"]), embed=FakeEmbedder())
    try:
        ws.vectors.reset()
        iv = ws.store.add_interview(Interview(title="経費", business_area="経費精算"))
        ws.store.add_elements(
            [
                Task(interview_id=iv.id, summary="楽楽精算で申請する"),
                Judgment(interview_id=iv.id, summary="5万円超は部長承認", decider="部長"),
            ]
        )
        ws.reviewer.approve("J0001", "sato")
        ws.reviewer.approve("T0001", "sato")
        ws.reviewer.retire("T0001", "sato")
        assert ws.vectors.location.startswith("http://") and ws.vectors.all_ids() == ["J0001"]
        ws.assistant.retriever.threshold = 0.05
        ans = ws.assistant.ask("5万円を超えたら誰が承認しますか？")
        assert ans.covered and [c.element_id for c in ans.citations] == ["J0001"]
        assert ws.rebuild_index() == 1
    finally:
        ws.close()


def test_unreachable_server_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="chroma run"):
        ChromaVectorStore(host="127.0.0.1", port=_free_port(), embed=FakeEmbedder())
