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

The copy is named by what it is made from (the model's sha256, llama.cpp's version, this
module's format), so a cache copied or moved elsewhere keeps using it. Beside it, an
``.npz`` keeps the facts the decoding loop needs and the copy's own sha256, checked each
time a process first uses it (0.10 s for the 80 MB copy): a copy that is damaged or
truncated, or facts that cannot be read, are made again, with a warning in the log. A copy
is written under a temporary name and renamed, its facts first; writing one removes the
copies made before from the same model (another llama.cpp, an older format) and any left
without facts. Where the cache cannot be written, a damaged copy is not used: the decoding
loop runs on the whole vocabulary (the same tune, slower).

Only Gemma 3 with tied embeddings (the embedded model) is narrowed; any other GGUF decodes
on its whole vocabulary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import logging
import os
import string
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tunesmith.decoding.model_context import ModelContext, NarrowModel
from tunesmith.decoding.vocabulary import Vocabulary
from tunesmith.errors import BackendError
from tunesmith.io.checksums import file_sha256

__all__ = ["MUSIC_ALPHABET", "NarrowModel", "agrees", "narrow_model"]

logger = logging.getLogger(__name__)

MUSIC_ALPHABET = frozenset(
    string.digits + string.punctuation + " \n" + "ABCDEFGabcdefgz" + "MIVXijmdsuov" + "hqw"
)
"""Characters of ABC notes, bar lines and chord marks (and tunesmith notation's durations).

About 16,000 of Gemma's tokens are made of these; one more letter such as ``r`` or ``t``
would bring in thousands of English words. Other characters are still written, a character
a token (every one-character token is kept)."""
_FORMAT = 2
"""Bumped when the copy's contents change, so old copies are not reused."""
_PER_TOKEN = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}
_PROBE_CTX = 256
_PROBE = 'X:1\nT:probe\nM:6/8\nL:1/8\nK:D\n|:"D" dfa gfe|dcB AFD|'


_FACTS = ("original", "offset", "rows", "row_bytes", "quantization", "n_embd", "scale", "digest")
"""What is kept beside the copy (its path and source are not: they name it)."""
_DAMAGED = (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile)
"""What reading facts that are truncated, empty or not an ``.npz`` at all may raise."""


def narrow_model(source: Path, llm: Any, cache: Path) -> NarrowModel | None:
    """The narrow copy of ``source`` (``llm`` is it loaded), made and checked on first use.

    None where the model cannot be narrowed, or where the copy's logits differ from the
    original's, or where a copy cannot be made (logged): then the decoding loop uses the
    whole vocabulary.
    """
    import llama_cpp  # noqa: PLC0415 - optional, heavy dependency

    metadata = getattr(llm, "metadata", None) or {}
    if metadata and metadata.get("general.architecture") != "gemma3":
        return None  # not a model this applies to: no need to read it whole
    try:
        source_digest = file_sha256(source)
    except OSError as error:
        logger.warning("decoding on the whole vocabulary: cannot read %s: %s", source, error)
        return None
    alphabet = "".join(sorted(MUSIC_ALPHABET))
    made_from = f"{source_digest}|{llama_cpp.__version__}|{_FORMAT}|{alphabet}"
    key = hashlib.sha256(made_from.encode()).hexdigest()[:16]
    path = cache / f"{source.stem}.narrow-{key}.gguf"
    facts = path.with_suffix(".npz")
    kept, problem = _kept(facts, path, source)
    if kept is not None:  # checked, or False: the facts say the model cannot be narrowed
        return kept if isinstance(kept, NarrowModel) else None
    if problem:
        logger.warning("making the narrow copy of %s again: %s", source, problem)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if not os.access(cache, os.W_OK):  # before the slow read of the model
            raise OSError(f"{cache} is not writable")
        made = _write(source, llm, path, facts, source_digest)
    except (OSError, ValueError, KeyError, BackendError) as error:
        logger.warning("decoding on the whole vocabulary: could not narrow %s: %s", source, error)
        return None
    _remove_stale(cache, source, path, source_digest)
    return made


def _kept(facts: Path, path: Path, source: Path) -> tuple[NarrowModel | bool | None, str]:
    """The copy kept in the cache, checked: a model, False (the model cannot be narrowed),
    or None and what is wrong ("" where there is nothing yet).
    """  # noqa: D205
    try:
        with np.load(facts) as data:
            if not data["usable"]:
                return False, ""
            kept = {
                name: data[name] if name == "original" else data[name].item() for name in _FACTS
            }
            kept["original"] = np.asarray(kept["original"], np.int32)
    except FileNotFoundError:
        return None, ""
    except _DAMAGED as error:
        return None, f"its facts {facts} cannot be read ({type(error).__name__}: {error})"
    try:
        digest = file_sha256(path)
    except OSError as error:
        return None, f"the copy {path} cannot be read ({error.strerror or error})"
    if digest != kept["digest"]:
        return None, f"the copy {path} is damaged (its sha256 is not the one recorded)"
    return NarrowModel(path=path, source=source, **kept), ""


def _facts(facts: Path) -> dict[str, Any] | None:
    """The source and digest recorded in ``facts``; None where they cannot be read."""
    try:
        with np.load(facts) as data:
            return {"source": str(data["source"]), "source_digest": str(data["source_digest"])}
    except _DAMAGED:
        return None


def _remove_stale(cache: Path, source: Path, kept: Path, source_digest: str) -> None:
    """Remove the narrow copies of ``source`` other than ``kept``: those of the same model
    (an older llama.cpp or format), of the same file, with facts that cannot be read, or
    left without facts.
    """  # noqa: D205
    names = {
        path.name.removesuffix(path.suffix)
        for suffix in (".gguf", ".npz")
        for path in cache.glob(f"{glob.escape(source.stem)}.narrow-*{suffix}")
    } - {kept.stem}
    for name in sorted(names):
        facts = _facts(cache / f"{name}.npz")
        if (
            facts is None
            or source_digest == facts["source_digest"]
            or str(source.resolve()) == facts["source"]
        ):
            logger.info("removing the narrow copy %s, made before", cache / f"{name}.gguf")
            for suffix in (".npz", ".gguf"):
                with contextlib.suppress(OSError):
                    (cache / f"{name}{suffix}").unlink(missing_ok=True)


def _save(facts: Path, model: NarrowModel | None, source: Path, source_digest: str) -> None:
    temporary = facts.with_name(f".{facts.name}.{os.getpid()}.npz")
    kept = {} if model is None else {name: getattr(model, name) for name in _FACTS}
    try:
        np.savez(
            temporary,
            usable=model is not None,
            source=str(source.resolve()),
            source_digest=source_digest,
            **kept,
        )
        os.replace(temporary, facts)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _write(
    source: Path, llm: Any, path: Path, facts: Path, source_digest: str
) -> NarrowModel | None:
    """Write the narrow GGUF to ``path`` and its ``facts`` beside it, the facts first.

    None where ``source`` is not a model it applies to, or where the copy's logits are not
    the original's (the facts say so, and no copy is kept).
    """
    import gguf  # noqa: PLC0415 - only when a copy is made
    import llama_cpp  # noqa: PLC0415 - optional, heavy dependency

    reader = gguf.GGUFReader(source)
    tensors = {tensor.name: tensor for tensor in reader.tensors}
    if reader.fields["general.architecture"].contents() != "gemma3" or "output.weight" in tensors:
        _save(facts, None, source, source_digest)
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

    table = tensors["token_embd.weight"]
    n_embd = int(reader.fields["gemma3.embedding_length"].contents())
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        _copy(reader, temporary, original)
        made = NarrowModel(
            path=temporary,
            original=original,
            source=source,
            offset=int(table.data_offset),
            rows=int(table.data.shape[0]),
            row_bytes=int(table.data.shape[1]),
            quantization=int(table.tensor_type),
            n_embd=n_embd,
            scale=float(np.sqrt(np.float32(n_embd))),
            digest=file_sha256(temporary),
        )
        usable = agrees(llm, made)
        _save(facts, made if usable else None, source, source_digest)
        if not usable:
            return None
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    logger.info("wrote the narrow copy %s of %s", path, source)
    return dataclasses.replace(made, path=path)


def _copy(reader: Any, path: Path, original: npt.NDArray[np.int32]) -> None:
    """Write ``reader``'s model keeping only the ``original`` tokens (vocabulary and embeddings)."""
    import gguf  # noqa: PLC0415 - optional dependency, only when a copy is made

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
