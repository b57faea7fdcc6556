"""A narrow copy of the model: its output layer scores only the tokens music is written in.

At each step Gemma's output layer multiplies the hidden state by all 262,144 token
embeddings: about 60% of a decoding step on two cores, though a tune's grammar can only
ever accept a few hundred of those tokens. So tunesmith writes, once per model file, a copy
of the GGUF whose vocabulary (and so output layer) keeps only the tokens made of
:data:`MUSIC_ALPHABET`'s characters, every one-character token and the special tokens; the
layers are the same bytes. The decoding loop gives that copy the original model's input
embeddings (``llama_batch.embd``), so a prompt may hold any text, and the logits of the tokens
kept are bit for bit the original's: the copy is checked against the original when it is
made, and used only where they agree.

Only Gemma 3 with tied embeddings (the embedded model) is narrowed; any other GGUF decodes
on its whole vocabulary.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tunesmith.errors import BackendError
from tunesmith.model_context import ModelContext
from tunesmith.vocabulary import Vocabulary

__all__ = ["MUSIC_ALPHABET", "NarrowModel", "agrees", "narrow_model"]

logger = logging.getLogger(__name__)

MUSIC_ALPHABET = frozenset(
    string.digits + string.punctuation + " \n" + "ABCDEFGabcdefgz" + "MIVXijmdsuov" + "hqw"
)
"""Characters of ABC notes, bar lines and chord marks (and tunesmith notation's durations).

About 16,000 of Gemma's tokens are made of these; one more letter such as ``r`` or ``t``
would bring in thousands of English words. Other characters are still written, a character
a token (every one-character token is kept)."""
_FORMAT = 1
"""Bumped when the copy's contents change, so old copies are not reused."""
_PER_TOKEN = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}
_PROBE_CTX = 256
_PROBE = 'X:1\nT:probe\nM:6/8\nL:1/8\nK:D\n|:"D" dfa gfe|dcB AFD|'


@dataclass(frozen=True)
class NarrowModel:
    """The narrow GGUF, which tokens it keeps, and the original's input embeddings."""

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

    def embeddings(self, tokens: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The input embeddings of the original model's ``tokens``, one row each."""
        from gguf import GGMLQuantizationType, quants  # noqa: PLC0415 - only when decoding

        table = _table(self.source, self.offset, self.rows, self.row_bytes)
        rows = quants.dequantize(table[np.asarray(tokens)], GGMLQuantizationType(self.quantization))
        return (rows.reshape(-1, self.n_embd).astype(np.float32)) * np.float32(self.scale)


_FACTS = ("original", "offset", "rows", "row_bytes", "quantization", "n_embd", "scale")
"""What is kept beside the copy (its path and source are not: they name it)."""


@functools.cache
def _table(source: Path, offset: int, rows: int, row_bytes: int) -> npt.NDArray[np.uint8]:
    """The original's token embeddings as stored (one row of bytes a token), mapped."""
    return np.memmap(source, np.uint8, "r", offset, (rows, row_bytes))


def narrow_model(source: Path, llm: Any, cache: Path) -> NarrowModel | None:
    """The narrow copy of ``source`` (``llm`` is it loaded), made and checked on first use.

    None where the model cannot be narrowed, or where the copy's logits differ from the
    original's: then the decoding loop uses the whole vocabulary.
    """
    import llama_cpp  # noqa: PLC0415 - optional, heavy dependency

    stat = source.stat()
    key = hashlib.sha256(
        f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{llama_cpp.__version__}|"
        f"{_FORMAT}|{''.join(sorted(MUSIC_ALPHABET))}".encode()
    ).hexdigest()[:16]
    path = cache / f"{source.stem}.narrow-{key}.gguf"
    facts = path.with_suffix(".npz")
    if not (facts.exists() and (path.exists() or not _usable(facts))):
        try:
            cache.mkdir(parents=True, exist_ok=True)
            if not os.access(cache, os.W_OK):  # before the slow read of the model
                raise OSError(f"{cache} is not writable")
            made = _write(source, llm, path)
            _save(facts, made if made is not None and agrees(llm, made) else None)
        except (OSError, ValueError, KeyError, BackendError) as error:
            logger.warning(
                "decoding on the whole vocabulary: could not narrow %s: %s", source, error
            )
            return None
    with np.load(facts) as data:
        if not data["usable"]:
            return None
        facts_kept = {
            name: data[name] if name == "original" else data[name].item() for name in _FACTS
        }
    return NarrowModel(path=path, source=source, **facts_kept)


def _usable(facts: Path) -> bool:
    with np.load(facts) as data:
        return bool(data["usable"])


def _save(facts: Path, model: NarrowModel | None) -> None:
    temporary = facts.with_name(f".{facts.name}.{os.getpid()}.npz")
    kept = {} if model is None else {name: getattr(model, name) for name in _FACTS}
    np.savez(temporary, usable=model is not None, **kept)
    os.replace(temporary, facts)


def _write(source: Path, llm: Any, path: Path) -> NarrowModel | None:
    """Write the narrow GGUF to ``path``; None where ``source`` is not a model it applies to."""
    import gguf  # noqa: PLC0415 - only when a copy is made
    import llama_cpp  # noqa: PLC0415

    reader = gguf.GGUFReader(source)
    tensors = {tensor.name: tensor for tensor in reader.tensors}
    if reader.fields["general.architecture"].contents() != "gemma3" or "output.weight" in tensors:
        return None
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    words = Vocabulary(llama_cpp, vocab, int(llama_cpp.llama_vocab_n_tokens(vocab)))
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    kept = {
        token
        for token, piece in enumerate(words.pieces)
        if piece and (set(piece) <= MUSIC_ALPHABET or (len(piece) == 1 and piece.isascii()))
    }
    special = {
        reader.fields[name].contents() for name in reader.fields if name.endswith("_token_id")
    }
    kept |= set(words.eog.tolist()) | special
    kept |= {token for token, kind in enumerate(types) if kind == gguf.TokenType.BYTE}
    original = np.array(sorted(kept), np.int32)

    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        _copy(reader, temporary, original)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    table = tensors["token_embd.weight"]
    n_embd = int(reader.fields["gemma3.embedding_length"].contents())
    return NarrowModel(
        path=path,
        original=original,
        source=source,
        offset=int(table.data_offset),
        rows=int(table.data.shape[0]),
        row_bytes=int(table.data.shape[1]),
        quantization=int(table.tensor_type),
        n_embd=n_embd,
        scale=float(np.sqrt(np.float32(n_embd))),
    )


def _copy(reader: Any, path: Path, original: npt.NDArray[np.int32]) -> None:
    """Write ``reader``'s model keeping only the ``original`` tokens (vocabulary and embeddings)."""
    import gguf  # noqa: PLC0415

    new_id = {int(token): index for index, token in enumerate(original)}
    writer = gguf.GGUFWriter(path, arch="gemma3")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value = field.contents()
        if field.name in _PER_TOKEN:
            value = [value[token] for token in original]
        elif field.name.endswith("_token_id"):
            value = new_id[value]
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
    datas = {
        tensor.name: np.ascontiguousarray(tensor.data[original])
        if tensor.name == "token_embd.weight"
        else tensor.data
        for tensor in reader.tensors
    }
    for tensor in reader.tensors:
        data = datas[tensor.name]
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for data in datas.values():
        writer.write_tensor_data(data)
    writer.close()


def agrees(llm: Any, narrow: NarrowModel) -> bool:
    """Whether the copy's logits for a probe are the original's for the tokens it keeps."""
    tokens = list(llm.tokenize(_PROBE.encode(), add_bos=True, special=False))
    items = [(token, index, (0,), index == len(tokens) - 1) for index, token in enumerate(tokens)]
    wide, slim = (_last_logits(llm, items, copy) for copy in (None, narrow))
    same = bool(np.array_equal(wide[narrow.original], slim))
    if not same:
        logger.warning(
            "decoding on the whole vocabulary: the narrow copy's logits differ by up to %.3g",
            float(np.abs(wide[narrow.original] - slim).max()),
        )
    return same


def _last_logits(
    llm: Any, items: list[tuple[int, int, tuple[int], bool]], narrow: NarrowModel | None
) -> npt.NDArray[np.float32]:
    """The logits after one batch of ``items`` on a fresh context (of the copy, where given)."""
    context = ModelContext(llm, sequences=1, n_ctx=_PROBE_CTX, narrow=narrow)
    try:
        context.decode(items)
        return np.array(context.logits(len(items) - 1), copy=True)
    finally:
        context.close()
