"""The one LLM code path (LangChain + OpenAI client) against a stub OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from pipeline.adapters.llm import OpenAIChat, chat_model
from pipeline.errors import LLMError
from pipeline.settings import load_settings


class _Stub(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    reply = '{"items": [], "findings": []}'
    status = 200

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        if type(self).status != 200:
            self.send_response(type(self).status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("手順は", "[T0001]"):
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                         "model": "m", "choices": [{"index": 0, "delta": {"content": piece},
                         "finish_reason": None}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        out = {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": type(self).reply}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }  # fmt: skip
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stub() -> Iterator[str]:
    _Stub.requests, _Stub.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


SCHEMA = {"title": "out", "type": "object", "properties": {"a": {"type": "string"}}}


def test_compatible_server_gets_json_object_with_schema(stub: str, tmp_path: Any) -> None:
    settings = load_settings(tmp_path, llm_base_url=stub, llm_model="qwen")
    llm = chat_model(settings)
    out = llm.complete([{"role": "user", "content": "hi"}], schema=SCHEMA)
    assert out.text.startswith('{"items"') and (out.prompt_tokens, out.completion_tokens) == (11, 7)
    fmt = _Stub.requests[-1]["response_format"]
    assert fmt == {"type": "json_object", "schema": SCHEMA}


def test_openai_gets_json_schema(stub: str) -> None:
    llm = OpenAIChat("gpt-x", stub, "k", structured="json_schema")
    llm.complete([{"role": "user", "content": "hi"}], schema=SCHEMA)
    fmt = _Stub.requests[-1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMA


def test_stream_yields_pieces(stub: str) -> None:
    llm = OpenAIChat("m", stub, "k", structured="json_object")
    assert "".join(llm.stream([{"role": "user", "content": "q"}])) == "手順は[T0001]"


def test_endpoint_failure_is_an_llm_error_with_hint(stub: str) -> None:
    _Stub.status = 500
    llm = OpenAIChat("m", stub, "k", structured="json_object", provider="openai_compatible")
    with pytest.raises(LLMError) as exc:
        llm.complete([{"role": "user", "content": "q"}])
    assert "retried" in exc.value.hint and exc.value.provider == "openai_compatible"


def test_unreachable_endpoint_is_an_llm_error() -> None:
    llm = OpenAIChat("m", "http://127.0.0.1:9/v1", "k", structured="json_object", timeout=2)
    with pytest.raises(LLMError, match="failed"):
        llm.complete([{"role": "user", "content": "q"}])


def test_cheaper_logprob_shims_give_the_library_s_exact_top_alternatives() -> None:
    """The embedded server's shims (pipeline/adapters/llama_entry.py) against llama_cpp's own
    computation, on the code pattern llama_cpp.llama uses for top_logprobs. In a child process:
    importing llama_cpp leaks file handles, which this suite treats as errors."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import types
import numpy as np
from llama_cpp.llama import Llama
from pipeline.adapters.llama_entry import patch

scores = np.random.default_rng(0).normal(size=(40, 5000)).astype(np.single)

def library_top(module_zip, to_logprobs, offset, k):
    out = []
    for row in to_logprobs(scores)[offset:]:
        ranked = sorted(module_zip(row, range(len(row))), reverse=True)
        out.append([(round(float(v), 5), i) for v, i in ranked[:k]])
    return out

expected = library_top(zip, Llama.logits_to_logprobs, 34, 5)
fake = types.SimpleNamespace(
    Llama=type(
        "Llama",
        (),
        {
            "logits_to_logprobs": Llama.logits_to_logprobs,
            "_init_sampler": Llama._init_sampler,
            "eval": Llama.eval,
            "_create_completion": Llama._create_completion,
        },
    )
)
patch(fake)
assert library_top(fake.zip, fake.Llama.logits_to_logprobs, 34, 5) == expected
row = scores[0]
assert np.allclose(fake.Llama.logits_to_logprobs(row), Llama.logits_to_logprobs(row))
assert list(fake.zip([1, 2], "ab")) == [(1, "a"), (2, "b")]
print("same")
"""
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "same"


@pytest.mark.slow
def test_the_rows_shim_gives_the_library_s_answers_and_logprobs(settings: Any) -> None:
    """``rows_eval`` (the output layer for each batch's last position only, every row for a
    request that echoes the prompt) against the library's ``eval``, with the real model: the
    same fields answer and top log-probabilities; then the echoed text and prompt
    log-probabilities are the library's for a sentence whose prefix an earlier answer left in
    the cache without its rows (the correction's scorer after a fields answer), for one that
    reuses an echoed prefix, and for one echoed again after a longer answer from it."""
    import subprocess
    import sys
    from pathlib import Path

    from pipeline.local_models import qwen_gguf_path

    gguf = qwen_gguf_path(settings.cache_dir)
    script = f"""
import json
import llama_cpp.llama as L
from llama_cpp import Llama, LlamaGrammar
from pipeline.adapters.llama_entry import patch
from pipeline.calls import strict_schema
from pipeline.fields import SCHEMAS
from pipeline.prompts import load_prompt

library = (L.Llama.eval, L.Llama._create_completion)
patch(L)
shim = (L.Llama.eval, L.Llama._create_completion)
assert shim[0] is not library[0] and shim[1] is not library[1]
llm = Llama(model_path={str(gguf)!r}, n_ctx=4096, n_threads=2, logits_all=True, verbose=False)
name, model = SCHEMAS["judgment"]
messages = load_prompt(name).render(context="", quote="3万円を超える返金は課長が確認します。")
grammar = LlamaGrammar.from_json_schema(json.dumps(strict_schema(model)), verbose=False)
head = "<|endoftext|>経費精算の手順です。領収書を添付して、"
answers, echoes, rows = [], [], []
for ev, cc in (shim, library):  # the shim first: no rows left by the library's run
    L.Llama.eval, L.Llama._create_completion = ev, cc
    llm.reset()
    out = llm.create_chat_completion(
        messages=messages, temperature=0, max_tokens=60, grammar=grammar,
        logprobs=True, top_logprobs=5,
    )
    c = out["choices"][0]
    answers.append((c["message"]["content"], [
        [(t["token"], float(t["logprob"])) for t in x["top_logprobs"]]
        for x in c["logprobs"]["content"]
    ]))
    # 1. a prompt evaluated without its rows, then a sentence sharing its prefix, echoed;
    # 2. a second echoed sentence reuses the first's prefix (its rows are all computed);
    # 3. an answer that continues the second sentence, then that sentence echoed again (cut
    #    back to it, the prompt is all cached, but the model's live logits are a later
    #    position's: the last token must be evaluated again)
    a, b = head + "課長に回します。", head + "部長が決裁します。"
    llm.create_completion(a, max_tokens=1, temperature=0)
    if ev is library[0]:
        llm.reset()  # the reference: the whole sentence in one batch, as the shim must do
    run = []
    for text in (a, b):
        e = llm.create_completion(text, max_tokens=1, temperature=0, echo=True, logprobs=1)
        run.append((e["choices"][0]["text"], e["choices"][0]["logprobs"]["token_logprobs"]))
        if ev is shim[0]:
            rows.append(llm._shikumi_rows)
    llm.create_completion(b + "その後、", max_tokens=4, temperature=0)
    e = llm.create_completion(b, max_tokens=1, temperature=0, echo=True, logprobs=1)
    run.append((e["choices"][0]["text"], e["choices"][0]["logprobs"]["token_logprobs"]))
    echoes.append(run)
(text_a, lp_a), (text_b, lp_b) = answers
assert text_a == text_b, answers
assert len(lp_a) == len(lp_b) > 5
for ra, rb in zip(lp_a, lp_b):
    assert [t for t, _ in ra] == [t for t, _ in rb], (ra, rb)
    assert all(abs(a - b) < 0.01 for (_, a), (_, b) in zip(ra, rb)), (ra, rb)
assert rows[0] > 8 and rows[1] > 8, rows  # the second echo had a computed prefix to reuse
for step, ((ta, ea), (tb, eb)) in enumerate(zip(*echoes), 1):
    gaps = [abs(x - y) for x, y in zip(ea, eb) if x is not None and y is not None]
    print(step, repr(ta[-6:]), repr(tb[-6:]), len(ea), len(eb), round(max(gaps), 4))
    assert ta == tb and len(ea) == len(eb) > 8, step
    assert max(gaps) < 0.01, step
print("same")
"""
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout[-1000:] + out.stderr[-1000:]
    assert out.stdout.strip().endswith("same")


@pytest.mark.slow
def test_the_grammar_shim_picks_the_library_s_tokens_with_the_real_model(settings: Any) -> None:
    """GreedyGrammarSampler (pipeline/adapters/llama_entry.py) against llama_cpp's own sampler
    chain over the whole vocabulary: the same answer, token for token, for schema-constrained
    fields answers of each kind in both languages (repeat penalty on, as the server's default)."""
    import subprocess
    import sys
    from pathlib import Path

    from pipeline.local_models import qwen_gguf_path

    gguf = qwen_gguf_path(settings.cache_dir)
    script = f"""
import json
import llama_cpp.llama as L
from llama_cpp import Llama, LlamaGrammar
from pipeline.adapters.llama_entry import patch
from pipeline.calls import strict_schema
from pipeline.fields import SCHEMAS
from pipeline.prompts import load_prompt

library = L.Llama._init_sampler
llm = Llama(model_path={str(gguf)!r}, n_ctx=4096, n_threads=2, verbose=False)
cases = [
    ("judgment", "取引先への返金は、3万円を超えるなら課長の確認を取ってから振り込みます。"),
    ("task", "Each Monday I pull the open orders and email the list to the warehouse."),
    ("exception", "請求書の金額が発注書と違うときは、購買の担当に連絡して直してもらいます。"),
]
for label, quote in cases:
    name, model = SCHEMAS[label]
    messages = load_prompt(name).render(context="", quote=quote)
    grammar = LlamaGrammar.from_json_schema(json.dumps(strict_schema(model)), verbose=False)
    answers = []
    for shim in (False, True):
        L.Llama._init_sampler = library
        if shim:
            patch(L)
        out = llm.create_chat_completion(
            messages=messages, temperature=0, max_tokens=200, grammar=grammar, repeat_penalty=1.1
        )
        answers.append(out["choices"][0]["message"]["content"])
    assert answers[0] == answers[1], answers
    json.loads(answers[1])
print("same")
"""
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("same")


@pytest.mark.slow
def test_the_grammar_shim_picks_what_the_library_s_chain_picks_on_hard_cases(
    settings: Any,
) -> None:
    """GreedyGrammarSampler.pick against llama_cpp's own chain (penalties, grammar, greedy)
    over the whole vocabulary of the real model (vocabulary only, no weights), on logits made
    to be hard: every allowed token below rank 5000 (the sampler must widen), a tie between two
    allowed tokens, an already-said token on top with all three penalties on. Also: the server
    installs the shim for temperature 0, and not for a penalty that can raise a logit."""
    import subprocess
    import sys
    from pathlib import Path

    from pipeline.local_models import qwen_gguf_path

    script = "GGUF = " + repr(str(qwen_gguf_path(settings.cache_dir))) + "\n" + SCRIPT
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "same 12"


SCRIPT = """
import ctypes
import numpy as np
import llama_cpp
import llama_cpp.llama as L
from llama_cpp import Llama, LlamaGrammar, _internals
from pipeline.adapters.llama_entry import GreedyGrammarSampler, patch
library = L.Llama._init_sampler
llm = Llama(model_path=GGUF, vocab_only=True, verbose=False)
patch(L)
n = llm._n_vocab
grammar = LlamaGrammar.from_string('root ::= [a-z]+ " " [a-z]+', verbose=False)
opts = dict(
    temp=0.0, grammar=grammar, repeat_penalty=1.3, frequency_penalty=0.2, presence_penalty=0.1
)
shim = llm._init_sampler(**opts)
assert isinstance(shim, GreedyGrammarSampler), type(shim)
assert not isinstance(llm._init_sampler(**{**opts, "repeat_penalty": 0.9}), GreedyGrammarSampler)
ref = library(llm, **opts)
dtype = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)

def library_pick(logits):
    data = np.zeros(n, dtype=dtype); data["id"] = np.arange(n); data["logit"] = logits
    arr = llama_cpp.llama_token_data_array(
        data.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)), n, -1, False)
    llama_cpp.llama_sampler_apply(ref.sampler, ctypes.byref(arr))
    return int(arr.data[arr.selected].id)

tok = lambda s: llm.tokenize(s.encode(), add_bos=False, special=False)
rng = np.random.default_rng(7)
letters = [t for t in range(n) if llm.detokenize([t]).decode("utf-8", "ignore").isalpha()
           and llm.detokenize([t]).decode("utf-8", "ignore").isascii()
           and llm.detokenize([t]).decode("utf-8", "ignore").islower()]
checked = 0
history: list[int] = []
for step in range(12):
    logits = rng.normal(size=n).astype(np.float32) * 3
    if step % 3 == 0:   # every allowed token far down: forces widening
        order = np.argsort(-logits); floor = logits[order[5000]]
        logits[letters] = np.minimum(logits[letters], floor - 0.01)
    if step % 3 == 1:   # a tie at the top between two allowed tokens
        logits[letters[5]] = logits[letters[9]] = logits.max() + 1
    if step % 3 == 2:  # an already-said token just inside the first 64, penalised below
        order = np.argsort(-logits)  # an allowed token just outside them
        logits[letters] = np.minimum(logits[letters], logits[order[5000]] - 0.01)
        order = np.argsort(-logits)
        logits[history[-1]] = logits[order[62]] + 0.001
        other = next(t for t in letters if t != history[-1])
        logits[other] = logits[order[64]] - 0.001
    want, got = library_pick(logits), shim.pick(logits)
    assert want == got, (step, want, got)
    checked += 1
    for s in (ref, shim.filters):   # both advance by the same token
        llama_cpp.llama_sampler_accept(s.sampler, want)
    history.append(want)
print("same", checked)
"""
