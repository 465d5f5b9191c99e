"""Entry point of the embedded LLM server: ``llama_cpp.server`` with cheaper log-probabilities.

Run by path (``python pipeline/adapters/llama_entry.py --model ...``) from ``llama_server.py``;
it takes the same arguments as ``python -m llama_cpp.server``.

Why: extraction reads each sentence label's probability from the top 5 log-probabilities of a
handful of generated tokens. llama-cpp-python 0.3.36 computes the log-softmax for *every*
position of the prompt (about 900 positions x 152k vocabulary entries) and then sorts the whole
vocabulary in Python for each generated token: a labelling call took 5.4 s instead of 1.2 s on
2 cores. Two shims in ``llama_cpp.llama``'s namespace do only the work the answer needs and give
the same numbers:

- ``Llama.logits_to_logprobs`` on a 2-D array returns rows computed when sliced, so only the
  generated positions are computed;
- ``zip(row, range(len(row)))`` over one vocabulary row (the argument of that ``sorted``) yields
  the row's top ``TOP`` entries only, found with ``numpy.argpartition``.

A third shim, ``rows_eval``, has the model compute the output layer for the last position of
each evaluated batch only: with log-probabilities on, the library computes it (152k entries)
for every prompt position and copies each row into ``scores``, and an answer reads only the
last prompt row and the generated tokens' rows. A request that echoes the prompt's
log-probabilities (the correction's sentence scorer) reads every row: it gets the library's
``eval``, and a cached prompt prefix is reused only as far as its rows were all computed. A
model with a state cache or a draft model keeps the library's ``eval`` throughout.

A fourth shim makes schema-constrained (grammar) answers cheaper. With a grammar the library
runs it over all 152k vocabulary entries for every generated token (about 15 ms a token on 2
cores, a third of a fields answer's time). ``GreedyGrammarSampler`` gives the same token as the
library's chain (penalties, grammar, greedy) for temperature 0: it runs penalties and grammar
over the most likely tokens first and widens the set only when no token in it can beat a token
outside it.

Everything else is the library's own code. The shims are checked against the library's exact
computation in ``tests/test_llm_adapter.py``.
"""

from __future__ import annotations

import builtins
import ctypes
import runpy
from typing import Any

import numpy as np

TOP = 20  # at least the largest top_logprobs a caller asks for
_VOCAB_MIN = 1000  # a row this long is a vocabulary row


class LazyLogprobRows:
    """Log-probabilities of a 2-D logits array, computed for the rows that are sliced out."""

    def __init__(self, logits: np.ndarray, exact: Any):
        self._logits = logits
        self._exact = exact

    def __len__(self) -> int:
        return int(self._logits.shape[0])

    def __getitem__(self, key: Any) -> Any:
        return self._exact(self._logits[key])


def patch(module: Any) -> None:
    """Install the shims in ``llama_cpp.llama`` (or a module that looks like it)."""
    exact = module.Llama.logits_to_logprobs

    def logits_to_logprobs(logits: Any, axis: int = -1) -> Any:
        if isinstance(logits, np.ndarray) and logits.ndim == 2 and axis == -1:
            return LazyLogprobRows(logits, exact)
        return exact(logits, axis)

    def top_zip(*args: Any, **kwargs: Any) -> Any:
        if (
            len(args) == 2
            and not kwargs
            and isinstance(args[0], np.ndarray)
            and args[0].ndim == 1
            and args[0].shape[0] >= _VOCAB_MIN
            and isinstance(args[1], range)
            and len(args[1]) == args[0].shape[0]
        ):
            row = args[0]
            top = np.argpartition(row, -TOP)[-TOP:]
            return [(row[i], int(i)) for i in top]
        return builtins.zip(*args, **kwargs)  # noqa: B905 (passes the caller's own arguments)

    module.Llama.logits_to_logprobs = staticmethod(logits_to_logprobs)
    module.zip = top_zip
    library_eval = module.Llama.eval
    library_completion = module.Llama._create_completion

    def rows_eval(self: Any, tokens: Any) -> None:
        start = self.n_tokens
        rows = min(getattr(self, "_shikumi_rows", 0), start)
        self._shikumi_rows = rows  # what stays true if the evaluation fails part-way
        if getattr(self, "_shikumi_all_rows", False) or every_row(self):
            library_eval(self, tokens)
            if rows == start:
                rows = self.n_tokens
        else:
            rows = last_rows_eval(self, tokens, rows)
        self._shikumi_rows = rows

    def create_completion(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("echo") or every_row(self):
            return (yield from library_completion(self, *args, **kwargs))
        # reuse a cached prefix only as far as every row of it is computed; a shortened prefix
        # must be evaluated again (the model's live logits are those of a later position)
        rows = getattr(self, "_shikumi_rows", 0)
        if rows < self.n_tokens:
            self.n_tokens = rows
            self._requires_eval = True
        self._shikumi_all_rows = True
        try:
            return (yield from library_completion(self, *args, **kwargs))
        finally:
            self._shikumi_all_rows = False

    module.Llama.eval = rows_eval
    module.Llama._create_completion = create_completion
    library_sampler = module.Llama._init_sampler

    def init_sampler(self: Any, *args: Any, **kwargs: Any) -> Any:
        shortcut = (
            kwargs.get("grammar") is not None
            and kwargs.get("temp", 0.8) == 0.0
            and not kwargs.get("logits_processor")
            and not args
            # penalties that can only lower a logit (the sampler's premise)
            and kwargs.get("repeat_penalty", 1.0) >= 1.0
            and kwargs.get("frequency_penalty", 0.0) >= 0.0
            and kwargs.get("presence_penalty", 0.0) >= 0.0
        )
        if not shortcut:
            return library_sampler(self, *args, **kwargs)
        from llama_cpp import _internals

        filters = _internals.LlamaSampler()  # the library's chain without its greedy pick
        filters.add_penalties(
            n_vocab=self._n_vocab,
            penalty_last_n=self.last_n_tokens_size,
            penalty_repeat=kwargs.get("repeat_penalty", 1.0),
            penalty_freq=kwargs.get("frequency_penalty", 0.0),
            penalty_present=kwargs.get("presence_penalty", 0.0),
        )
        filters.add_grammar(self._model, kwargs["grammar"])
        return GreedyGrammarSampler(filters, self._n_vocab)

    module.Llama._init_sampler = init_sampler


def every_row(llm: Any) -> bool:
    """Whether ``llm`` must keep every row as the library does: without log-probabilities
    (no rows are kept at all), with a state cache (a restored state brings its rows back) or a
    draft model (it samples at positions before a batch's last)."""
    return (
        not llm._logits_all
        or getattr(llm, "cache", None) is not None
        or getattr(llm, "draft_model", None) is not None
    )


def last_rows_eval(self: Any, tokens: Any, rows: int) -> int:
    """``Llama.eval`` computing the logits of each batch's last position only.

    ``rows`` counts the leading positions whose rows are all computed; returns it updated (a
    batch of more than one token leaves rows before its last position unwritten)."""
    self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
    for i in range(0, len(tokens), self.n_batch):
        batch = tokens[i : min(len(tokens), i + self.n_batch)]
        n_past, n_tokens = self.n_tokens, len(batch)
        self._batch.set_batch(batch=batch, n_past=n_past, logits_all=False)
        self._ctx.decode(self._batch)
        self.input_ids[n_past : n_past + n_tokens] = batch
        last = np.ctypeslib.as_array(self._ctx.get_logits_ith(-1), shape=(self._n_vocab,))
        self.scores[n_past + n_tokens - 1, :] = last
        if rows == n_past and n_tokens == 1:
            rows += 1
        self.n_tokens += n_tokens
        self._requires_eval = False
    return rows


_FIRST = 64  # most likely tokens checked first; widened x8 while that cannot decide


class GreedyGrammarSampler:
    """Temperature-0 sampling under penalties and a grammar, on the most likely tokens first.

    Penalties only lower a token's logit and the grammar only removes tokens, so when the best
    surviving token of the k most likely has a logit above the k-th raw logit, no token outside
    them can beat it: it is the token the library's chain over the whole vocabulary picks (ties
    go to the lower token id, as the library's greedy pick does over an array in id order).
    """

    def __init__(self, filters: Any, n_vocab: int):
        import llama_cpp

        self._llama = llama_cpp
        self.filters = filters  # keeps the chain alive; freed with this object
        self.n_vocab = n_vocab
        self._dtype = np.dtype(
            [("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True
        )

    def _best(self, logits: np.ndarray, ids: np.ndarray) -> tuple[int, float] | None:
        lib = self._llama
        data = np.zeros(len(ids), dtype=self._dtype)
        data["id"], data["logit"] = ids, logits[ids]
        arr = lib.llama_token_data_array(
            data.ctypes.data_as(ctypes.POINTER(lib.llama_token_data)), len(ids), -1, False
        )
        lib.llama_sampler_apply(self.filters.sampler, ctypes.byref(arr))
        out = np.ctypeslib.as_array(
            ctypes.cast(arr.data, ctypes.POINTER(ctypes.c_uint8)),
            shape=(arr.size * self._dtype.itemsize,),
        ).view(self._dtype)
        alive = out[np.isfinite(out["logit"])]
        if not len(alive):
            return None
        top = alive["logit"].max()
        return int(alive["id"][alive["logit"] == top].min()), float(top)

    def pick(self, logits: np.ndarray) -> int:
        """The token for one position's logits (the grammar state is not advanced)."""
        k = _FIRST
        while True:
            if k >= self.n_vocab:
                ids = np.arange(self.n_vocab, dtype=np.int32)
                floor = -np.inf
            else:
                ids = np.argpartition(-logits, k)[:k].astype(np.int32)
                floor = float(logits[ids].min())  # no token outside scores above this
            best = self._best(logits, ids)
            if best is not None and (k >= self.n_vocab or best[1] > floor):
                return best[0]
            if k >= self.n_vocab:
                # nothing the grammar allows: the library's greedy pick over all -inf is the
                # first entry, token 0 (accepting it then fails in the grammar, as there)
                return 0
            k *= 8

    def sample(self, ctx: Any, idx: int = -1) -> int:
        ptr = self._llama.llama_get_logits_ith(ctx.ctx, idx)
        token = self.pick(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy())
        self.accept(token)
        return token

    def accept(self, token: int) -> None:
        self._llama.llama_sampler_accept(self.filters.sampler, token)

    def reset(self) -> None:
        self._llama.llama_sampler_reset(self.filters.sampler)

    def close(self) -> None:
        self.filters.close()


if __name__ == "__main__":
    import llama_cpp.llama

    patch(llama_cpp.llama)
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
