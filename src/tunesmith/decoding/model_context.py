"""One llama.cpp context for the decoding loop: the model, its batch, and the prompt.

The context holds one KV sequence per lane plus sequence 0, where the fixed prompt prefix
is evaluated once and kept (and kept on disk too, see :mod:`tunesmith.decoding.prefix_state`). Every
run decodes the prefix and the request's suffix as separate batches, so a cached prefix gives
exactly the logits a fresh one does, and the same seed gives the same tune.

Given a :class:`NarrowModel`, the context runs on that copy of
the model, whose output layer scores only the tokens music is written in, and is fed the
original's input embeddings: the same logits, a third of the time. Tokens going in are
always the original model's; tokens coming out are the copy's (:meth:`input_token` maps).
A LoRA adapter (the folk adapter tunesmith ships, ``train/train.py``) is applied to the
context where given; it touches no embedding, so it fits the copy and the original alike.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tunesmith.decoding.prefix_state import load_prefix, save_prefix, state_file
from tunesmith.decoding.vocabulary import Vocabulary
from tunesmith.errors import BackendError
from tunesmith.io.checksums import file_sha256

__all__ = ["BATCH", "ModelContext", "NarrowModel", "llama_api"]

BATCH = 512
"""Tokens per llama_decode call when evaluating a prompt (a fixed split, for reproducibility)."""


@functools.cache
def llama_api() -> Any:
    """llama_cpp's low-level API, imported on first use (an optional, heavy dependency)."""
    import llama_cpp  # noqa: PLC0415 - optional, heavy dependency

    return llama_cpp


@dataclasses.dataclass(frozen=True)
class NarrowModel:
    """The narrow GGUF (made by :func:`tunesmith.decoding.narrow.narrow_model`), which tokens
    it keeps, and the original's input embeddings.
    """  # noqa: D205

    path: Path
    original: npt.NDArray[np.int32]
    """The original model's id of each token the copy keeps (the copy's id is the index)."""
    source: Path
    offset: int
    """Where the original's token embeddings start in ``source`` (bytes)."""
    rows: int
    """The original's vocabulary size."""
    row_bytes: int
    quantization: int
    """The embeddings' GGML type (``gguf.GGMLQuantizationType``)."""
    n_embd: int
    scale: float
    """What the model multiplies looked-up embeddings by (Gemma: the square root of n_embd)."""
    digest: str
    """The copy's sha256 (hex), recorded when it was written and checked before it is used."""

    def embeddings(self, tokens: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The input embeddings of the original model's ``tokens``, one row each."""
        from gguf import GGMLQuantizationType, quants  # noqa: PLC0415 - only when decoding

        table = _table(self.source, self.offset, self.rows, self.row_bytes)
        rows = quants.dequantize(table[np.asarray(tokens)], GGMLQuantizationType(self.quantization))
        return (rows.reshape(-1, self.n_embd).astype(np.float32)) * np.float32(self.scale)


@functools.cache
def _table(source: Path, offset: int, rows: int, row_bytes: int) -> npt.NDArray[np.uint8]:
    """The original's token embeddings as stored (one row of bytes a token), mapped."""
    return np.memmap(source, np.uint8, "r", offset, (rows, row_bytes))


class ModelContext:
    """A llama.cpp context of ``sequences`` KV sequences on ``llm`` or its narrow copy."""

    def __init__(
        self,
        llm: Any,
        *,
        sequences: int,
        n_ctx: int,
        narrow: NarrowModel | None = None,
        adapter: Path | None = None,
        state_dir: Path | None = None,
    ) -> None:
        L = llama_api()  # noqa: N806 - the library's own name
        from llama_cpp import _internals  # noqa: PLC0415 - optional, heavy dependency

        self._llm = llm
        self.narrow = narrow
        """Where given, decoding runs on this narrow copy, fed the original's embeddings."""
        self._model = (
            llm._model
            if narrow is None
            else _internals.LlamaModel(
                path_model=str(narrow.path), params=llm.model_params, verbose=False
            )
        )
        self.vocab = L.llama_model_get_vocab(self._model.model)
        self.n_vocab = int(L.llama_vocab_n_tokens(self.vocab))
        self.sequences = sequences
        # the model's own settings (attention kernel, cache types...), so the same tokens give
        # the same logits as ``Llama.create_completion``; more sequences and a larger context
        params = type(llm.context_params).from_buffer_copy(llm.context_params)
        params.n_ctx = n_ctx
        params.n_batch = BATCH
        params.n_ubatch = BATCH
        params.n_seq_max = sequences
        params.kv_unified = True
        params.n_threads = llm.context_params.n_threads
        params.n_threads_batch = llm.context_params.n_threads_batch
        self._context = _internals.LlamaContext(model=self._model, params=params, verbose=False)
        self.ctx = self._context.ctx
        self.memory = L.llama_get_memory(self.ctx)
        self.batch = L.llama_batch_init(BATCH, narrow.n_embd if narrow else 0, sequences)
        self.adapter = adapter
        """The GGUF LoRA adapter applied to the model (None: the model as it is)."""
        if adapter is not None:
            self._apply(adapter)
        self.words = Vocabulary(L, self.vocab, self.n_vocab)
        self.prefix: list[int] = []
        """The prompt prefix held in sequence 0 (empty: none; set it so to evaluate again)."""
        self.state_dir = state_dir
        """Where prefix states are kept between processes (None: evaluated in each)."""

    @functools.cached_property
    def _identity(self) -> str:
        """What names the model exactly for its prefix states.

        The narrow copy by its sha256 (checked when it was loaded), so a cache copied
        elsewhere keeps its states; a whole model by its path, size and time (a model of
        gigabytes would take seconds to hash in each process); the adapter by its sha256.
        """
        if self.narrow is not None:
            model = self.narrow.digest
        else:
            path = Path(self._llm.model_path).resolve()
            model = f"{path}|{path.stat().st_size}|{path.stat().st_mtime_ns}"
        adapter = file_sha256(self.adapter) if self.adapter else "none"
        return f"{model}|{adapter}|{llama_api().__version__}"

    def _apply(self, adapter: Path) -> None:
        """Load the LoRA ``adapter`` onto the model and set it on this context at scale 1.

        llama.cpp frees a loaded adapter with its model.
        """
        L = llama_api()  # noqa: N806
        loaded = L.llama_adapter_lora_init(self._model.model, str(adapter).encode())
        applied = bool(loaded) and (
            L.llama_set_adapters_lora(
                self.ctx,
                (L.llama_adapter_lora_p_ctypes * 1)(loaded),
                1,
                (ctypes.c_float * 1)(1.0),
            )
            == 0
        )
        if not applied:
            self.close()
            raise BackendError(
                f"llama.cpp could not apply the LoRA adapter {adapter} to the model",
                hint="give an adapter trained for this model (a GGUF LoRA), or adapter=None "
                "(--adapter none) for the model as it is",
            )

    def close(self) -> None:
        """Free the context, the batch and the narrow copy."""
        L = llama_api()  # noqa: N806
        if self.batch is not None:
            L.llama_batch_free(self.batch)
            self.batch = None
        self._context.close()  # type: ignore[no-untyped-call]
        if self.narrow is not None:
            self._model.close()

    def tokenize(self, text: str, *, bos: bool) -> list[int]:
        """The original model's tokens for ``text``."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=bos, special=False))

    def input_token(self, token: int) -> int:
        """The original model's id of a token sampled from this context's logits."""
        return token if self.narrow is None else int(self.narrow.original[token])

    def logits(self, row: int) -> npt.NDArray[np.float32]:
        """The logits of output ``row`` of the last decode (a view, valid until the next)."""
        pointer = llama_api().llama_get_logits_ith(self.ctx, row)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))

    def decode(self, items: Sequence[tuple[int, int, Sequence[int], bool]]) -> None:
        """One llama_decode of (token, position, sequences, wants logits) items.

        Tokens are the original model's; a narrow copy gets their embeddings instead.
        """
        L = llama_api()  # noqa: N806
        batch = self.batch
        batch.n_tokens = len(items)
        if self.narrow is not None:
            rows = self.narrow.embeddings([token for token, *_ in items])
            ctypes.memmove(batch.embd, rows.ctypes.data, rows.nbytes)
        for index, (token, position, sequences, logits) in enumerate(items):
            if self.narrow is None:
                batch.token[index] = token
            batch.pos[index] = position
            batch.n_seq_id[index] = len(sequences)
            for slot, sequence in enumerate(sequences):
                batch.seq_id[index][slot] = sequence
            batch.logits[index] = logits
        status = L.llama_decode(self.ctx, batch)
        if status != 0:
            raise BackendError(
                f"llama.cpp could not decode a batch of {len(items)} tokens (status {status})",
                hint="the prompt and the tune may not fit the context; ask for fewer bars",
            )

    def loss(self, text: str) -> tuple[float, int]:
        """How surprised the model is by ``text``: nats summed over its predicted tokens, and
        how many it predicted (after the BOS, in sequence 0, which is left empty).

        On a narrow copy only tokens the copy keeps are predicted (a title's words are not):
        the same tokens the decoding loop can write.
        """  # noqa: D205
        tokens = self.tokenize(text, bos=True)
        kept = None
        if self.narrow is not None:
            kept = {int(token): index for index, token in enumerate(self.narrow.original)}
        L = llama_api()  # noqa: N806
        L.llama_memory_seq_rm(self.memory, 0, -1, -1)
        self.prefix = []
        total, count = 0.0, 0
        for start in range(0, len(tokens) - 1, BATCH):
            chunk = tokens[start : start + BATCH]
            self.decode([(t, start + i, (0,), True) for i, t in enumerate(chunk)])
            for row, following in enumerate(tokens[start + 1 : start + 1 + len(chunk)]):
                target = following if kept is None else kept.get(following)
                if target is None:
                    continue
                logits = self.logits(row).astype(np.float64)
                top = logits.max()
                total += float(top + np.log(np.exp(logits - top).sum()) - logits[target])
                count += 1
        L.llama_memory_seq_rm(self.memory, 0, -1, -1)
        return total, count

    def clear_lanes(self) -> None:
        """Empty every sequence but the prefix's."""
        for sequence in range(1, self.sequences):
            llama_api().llama_memory_seq_rm(self.memory, sequence, -1, -1)

    def prompt(self, prefix: list[int], suffix: list[int], lanes: int) -> None:
        """Prefix (cached in sequence 0) and suffix (for sequences 1..lanes) in fixed batches."""
        L = llama_api()  # noqa: N806
        self.clear_lanes()
        if prefix != self.prefix:
            L.llama_memory_seq_rm(self.memory, 0, -1, -1)
            self.prefix = []
            file = state_file(self.state_dir, self._identity, prefix) if self.state_dir else None
            if file is None or not load_prefix(L, self.ctx, file, prefix):
                for start in range(0, len(prefix), BATCH):
                    chunk = prefix[start : start + BATCH]
                    self.decode([(t, start + i, (0,), False) for i, t in enumerate(chunk)])
                if file is not None and prefix:
                    save_prefix(L, self.ctx, file, prefix)
            self.prefix = list(prefix)
        for sequence in range(1, lanes + 1):
            L.llama_memory_seq_cp(self.memory, 0, sequence, -1, -1)
        sequences = tuple(range(1, lanes + 1))
        for start in range(0, len(suffix), BATCH):
            chunk = suffix[start : start + BATCH]
            last = start + len(chunk) == len(suffix)
            self.decode(
                [
                    (t, len(prefix) + start + i, sequences, last and i == len(chunk) - 1)
                    for i, t in enumerate(chunk)
                ]
            )
