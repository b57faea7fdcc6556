"""tunesmith's own decoding loop on llama.cpp: grammar, candidate pruning, lanes, scripts.

llama.cpp's grammar sampler checks every one of Gemma's 262,144 tokens at each step
(~36 ms a token here, more than the decoding itself). Only tokens made of the grammar's
characters can ever be accepted, so the loop offers the sampler just those (a few hundred
to a few thousand, derived from the grammar's literals) plus end-of-generation: the same
token for the same seed, at a fraction of a millisecond. The sampler chain is the one
``Llama.create_completion`` builds (grammar, top-k, typical, top-p, min-p, temperature,
seeded distribution), applied in the same order.

Several **lanes** (candidate tunes) decode side by side in one llama.cpp batch, each in
its own KV sequence behind a shared prompt; on two CPU cores four lanes cost about twice
one. A :class:`Script` drives each lane: it hands out the next :class:`Segment` (text to
force, or a grammar to sample under), and judges each finished bar; a bar it refuses is
decoded again from its start with fresh random draws.

The llama.cpp context (the model or its narrow copy, the batch, the prompt prefix kept in
sequence 0) is a :class:`~tunesmith.decoding.model_context.ModelContext`.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tunesmith.decoding.model_context import BATCH, ModelContext, NarrowModel, llama_api
from tunesmith.decoding.segments import (
    Forced,
    Free,
    LaneResult,
    RunStats,
    SamplerSettings,
    Script,
    Segment,
)
from tunesmith.errors import BackendError
from tunesmith.writing.grammar import grammar_alphabet

__all__ = ["Decoder"]

_TOKEN_DTYPE = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


@dataclass
class _Lane:
    seq: int
    script: Script
    dist: Any
    result: LaneResult
    position: int
    pending: list[int] = field(default_factory=list)
    """Tokens to decode in the next batch."""
    logits_row: int = -1
    segment: Segment | None = None
    grammar: Any = None
    shape: Any = None
    segment_start_text: str = ""
    segment_start_position: int = 0
    segment_logits: npt.NDArray[np.float32] | None = None
    candidates: npt.NDArray[np.int32] | None = None
    bias: npt.NDArray[np.float32] | None = None
    """Added to the candidates' logits: the segment's penalty (None: none)."""
    tries: list[tuple[int, str]] = field(default_factory=list)
    sampled: int = 0
    done: bool = False


class Decoder:
    """Decodes lanes on one llama.cpp model; one decoder per model, used by one thread."""

    def __init__(
        self,
        llm: Any,
        *,
        lanes: int = 4,
        n_ctx: int = 8192,
        narrow: NarrowModel | None = None,
        adapter: Path | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.context = ModelContext(
            llm,
            sequences=lanes + 1,
            n_ctx=n_ctx,
            narrow=narrow,
            adapter=adapter,
            state_dir=state_dir,
        )
        self.lanes = lanes
        self.words = self.context.words
        self.last_run = RunStats()

    @property
    def narrow(self) -> NarrowModel | None:
        """The narrow copy decoding runs on (None: the whole vocabulary)."""
        return self.context.narrow

    @property
    def n_vocab(self) -> int:
        """Tokens the model decoded on scores."""
        return self.context.n_vocab

    def close(self) -> None:
        """Free the context and the batch."""
        self.context.close()

    def tokenize(self, text: str, *, bos: bool) -> list[int]:
        """The model's tokens for ``text``."""
        return self.context.tokenize(text, bos=bos)

    # -- the loop -------------------------------------------------------------------------

    def run(
        self,
        prefix: str,
        suffix: str,
        scripts: Sequence[Script],
        *,
        seed: int,
        settings: SamplerSettings | None = None,
        deadline: float | None = None,
        max_tokens: int = 4096,
    ) -> list[LaneResult]:
        """Decode one lane per script behind ``prefix`` + ``suffix``; lane i is seeded ``seed + i``.

        Raises
        ------
        BackendError
            When ``deadline`` (a ``time.monotonic()`` value) passes, or a lane samples more
            than ``max_tokens`` tokens.
        """
        if not 1 <= len(scripts) <= self.lanes:
            raise ValueError(f"1 to {self.lanes} scripts per run (received {len(scripts)})")
        settings = settings or SamplerSettings()
        started = time.perf_counter()
        lanes = self._start(prefix, suffix, scripts, seed)
        stats = self.last_run = RunStats(prompt_seconds=time.perf_counter() - started)
        looping = time.perf_counter()
        try:
            for lane in lanes:
                self._advance(lane, settings)
            first_done: int | None = None
            while any(not lane.done for lane in lanes):
                stats.steps += 1
                if first_done is None and any(lane.done for lane in lanes):
                    first_done = stats.steps
                if (
                    first_done is not None
                    and stats.steps > first_done * (1 + settings.patience) + 8
                ):
                    for lane in lanes:
                        if not lane.done:
                            lane.done, lane.result.finished = True, False
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise BackendError(
                        "the embedded model ran past its deadline",
                        retryable=True,
                        hint="ask for fewer bars or fewer candidates, or allow more time",
                    )
                self._step([lane for lane in lanes if not lane.done], settings, max_tokens)
        finally:
            stats.loop_seconds = time.perf_counter() - looping
            for lane in lanes:
                self._free_lane(lane)
            self.context.clear_lanes()
        return [lane.result for lane in lanes]

    def _start(self, prefix: str, suffix: str, scripts: Sequence[Script], seed: int) -> list[_Lane]:
        """Evaluate the prompt and make one lane per script, seeded ``seed + i``."""
        L = llama_api()  # noqa: N806
        prefix_tokens = self.tokenize(prefix, bos=True) if prefix else []
        suffix_tokens = self.tokenize(suffix, bos=not prefix)
        if not suffix_tokens:
            raise ValueError("the prompt's suffix must not be empty")
        start = len(prefix_tokens) + len(suffix_tokens)
        if start + 64 > L.llama_n_ctx(self.context.ctx):
            raise BackendError(
                f"the prompt takes {start} of the model's {L.llama_n_ctx(self.context.ctx)} tokens",
                hint="ask for fewer bars",
            )
        self.context.prompt(prefix_tokens, suffix_tokens, len(scripts))
        return [
            _Lane(
                seq=index + 1,
                script=script,
                dist=L.llama_sampler_init_dist(seed + index),
                result=LaneResult(""),
                position=start,
                logits_row=(len(suffix_tokens) - 1) % BATCH,
            )
            for index, script in enumerate(scripts)
        ]

    def _step(self, active: list[_Lane], settings: SamplerSettings, max_tokens: int) -> None:
        """Decode every active lane's pending tokens in one batch, then sample each lane."""
        items: list[tuple[int, int, Sequence[int], bool]] = []
        rows: dict[int, int] = {}
        for lane in active:
            for index, token in enumerate(lane.pending):
                last = index == len(lane.pending) - 1
                if last:
                    rows[lane.seq] = len(items)
                items.append((token, lane.position, (lane.seq,), last))
                lane.position += 1
            lane.pending = []
        if len(items) > BATCH:
            raise BackendError(f"a step of {len(items)} tokens (a tunesmith bug: bars are short)")
        self.context.decode(items)
        for lane in active:
            lane.logits_row = rows[lane.seq]
            self._advance(lane, settings)
            if lane.result.tokens > max_tokens:
                raise BackendError(
                    f"a lane wrote more than {max_tokens} tokens without finishing",
                    hint="this is a tunesmith bug; please report it",
                )

    def _logits(self, lane: _Lane) -> npt.NDArray[np.float32]:
        return self.context.logits(lane.logits_row)

    def _advance(self, lane: _Lane, settings: SamplerSettings) -> None:
        """Sample the lane's next token, or move it to its next segment; sets ``pending``."""
        while not lane.pending and not lane.done:
            if lane.segment is None:  # a forced segment is pending at once: never kept here
                self._next_segment(lane, settings)
                continue
            if self._grammar_can_end(lane):
                self._finish_segment(lane, settings)
                continue
            token = self._sample(lane, settings)
            lane.result.text += self.words.pieces[token]
            lane.result.tokens += 1
            lane.sampled += 1
            lane.pending = [self.context.input_token(token)]

    def _next_segment(self, lane: _Lane, settings: SamplerSettings) -> None:
        segment = lane.script.next_segment(lane.result.text)
        if segment is None:
            lane.done = True
            return
        if isinstance(segment, Forced):
            tokens = self.tokenize(segment.text, bos=False)
            lane.result.text += segment.text
            lane.result.forced_tokens += len(tokens)
            lane.pending = tokens
            return
        lane.segment = segment
        lane.segment_start_text = lane.result.text
        lane.segment_start_position = lane.position
        lane.segment_logits = np.array(self._logits(lane), copy=True)
        lane.tries = []
        self._start_samplers(lane, settings, heat=0.0)

    def _start_samplers(self, lane: _Lane, settings: SamplerSettings, heat: float) -> None:
        L = llama_api()  # noqa: N806
        self._free_samplers(lane)
        assert isinstance(lane.segment, Free)
        lane.grammar = L.llama_sampler_init_grammar(
            self.context.vocab, lane.segment.grammar.encode("utf-8"), b"root"
        )
        if not lane.grammar:
            raise BackendError("llama.cpp rejected a constrained grammar (a tunesmith bug)")
        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        for sampler in (
            L.llama_sampler_init_top_k(settings.top_k),
            L.llama_sampler_init_typical(settings.typical_p, 1),
            L.llama_sampler_init_top_p(settings.top_p, 1),
            L.llama_sampler_init_min_p(settings.min_p, 1),
            L.llama_sampler_init_temp(settings.temperature + heat),
        ):
            L.llama_sampler_chain_add(chain, sampler)
        lane.shape = chain
        lane.candidates = self.words.candidates(grammar_alphabet(lane.segment.grammar))
        lane.bias = None
        if lane.segment.penalty:
            penalised = self.words.holding(lane.segment.penalised)[lane.candidates]
            lane.bias = np.where(penalised, np.float32(-lane.segment.penalty), np.float32(0))

    def _sample(self, lane: _Lane, settings: SamplerSettings) -> int:
        """Draw a token the grammar allows and the script accepts (else the grammar's first)."""
        L = llama_api()  # noqa: N806
        ids = lane.candidates
        assert ids is not None
        logits = (self._logits(lane) if lane.sampled else self._first_logits(lane))[ids]
        if lane.bias is not None:
            logits = logits + lane.bias
        written = lane.result.text[len(lane.segment_start_text) :]
        first: int | None = None
        for _ in range(settings.token_tries):
            data = (L.llama_token_data * len(ids))()
            view = np.frombuffer(data, dtype=_TOKEN_DTYPE)
            view["id"] = ids
            view["logit"] = logits
            view["p"] = 0
            array = L.llama_token_data_array(data, len(ids), -1, False)
            pointer = ctypes.byref(array)
            L.llama_sampler_apply(lane.grammar, pointer)
            L.llama_sampler_apply(lane.shape, pointer)
            L.llama_sampler_apply(lane.dist, pointer)
            if array.selected < 0 or not np.isfinite(data[array.selected].logit):
                token = first if first is not None else _raise_dead_end()
                break
            token = int(data[array.selected].id)
            if first is None:
                first = token
            if lane.script.allows(written + self.words.pieces[token]):
                break
            lane.result.refused_tokens += 1
            logits = np.where(ids == token, -np.inf, logits).astype(np.float32)
        else:
            token = first if first is not None else _raise_dead_end()
        L.llama_sampler_accept(lane.grammar, token)
        L.llama_sampler_accept(lane.shape, token)
        L.llama_sampler_accept(lane.dist, token)
        return token

    def _first_logits(self, lane: _Lane) -> npt.NDArray[np.float32]:
        """The logits where the segment starts (kept: a retry starts from them again)."""
        assert lane.segment_logits is not None
        return lane.segment_logits

    def _grammar_can_end(self, lane: _Lane) -> bool:
        L = llama_api()  # noqa: N806
        data = (L.llama_token_data * 1)()
        data[0].id = int(self.words.eog[0])
        data[0].logit = 0.0
        array = L.llama_token_data_array(data, 1, -1, False)
        L.llama_sampler_apply(lane.grammar, ctypes.byref(array))
        return bool(np.isfinite(data[0].logit))

    def _finish_segment(self, lane: _Lane, settings: SamplerSettings) -> None:
        """Judge the segment; accept it, or rewind and decode it again."""
        segment = lane.segment
        assert isinstance(segment, Free)
        written = lane.result.text[len(lane.segment_start_text) :]
        problems = lane.script.judge(lane.segment_start_text, written) if segment.checked else 0
        lane.tries.append((problems, written))
        if problems == 0 or len(lane.tries) > settings.retries:
            best_problems, best = min(lane.tries, key=lambda item: item[0])
            if best_problems:
                lane.result.accepted_with_problems += 1
            lane.segment = None
            self._free_samplers(lane)
            if best != written:  # go back to the best try and force its text
                self._rewind(lane)
                tokens = self.tokenize(best, bos=False)
                lane.result.text += best
                lane.result.forced_tokens += len(tokens)
                lane.pending = tokens
            return
        lane.result.retries += 1
        self._rewind(lane)
        self._start_samplers(lane, settings, heat=settings.retry_heat * len(lane.tries))

    def _rewind(self, lane: _Lane) -> None:
        L = llama_api()  # noqa: N806
        L.llama_memory_seq_rm(self.context.memory, lane.seq, lane.segment_start_position, -1)
        lane.position = lane.segment_start_position
        lane.result.text = lane.segment_start_text
        lane.sampled = 0

    def _free_samplers(self, lane: _Lane) -> None:
        L = llama_api()  # noqa: N806
        for name in ("grammar", "shape"):
            sampler = getattr(lane, name)
            if sampler:
                L.llama_sampler_free(sampler)
            setattr(lane, name, None)

    def _free_lane(self, lane: _Lane) -> None:
        L = llama_api()  # noqa: N806
        self._free_samplers(lane)
        if lane.dist:
            L.llama_sampler_free(lane.dist)
            lane.dist = None


def _raise_dead_end() -> int:
    raise BackendError(
        "no token can continue the grammar (a tunesmith bug: its grammars have no dead ends)"
    )
