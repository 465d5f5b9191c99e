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

Everything else is the library's own code. The shims are checked against the library's exact
computation in ``tests/test_llm_adapter.py``.
"""

from __future__ import annotations

import builtins
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


if __name__ == "__main__":
    import llama_cpp.llama

    patch(llama_cpp.llama)
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
