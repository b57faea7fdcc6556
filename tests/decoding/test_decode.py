"""tunesmith's decoding loop on the real embedded model: exact, reproducible, bounded."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import llama_cpp
import pytest
from llama_cpp.llama_grammar import LlamaGrammar

from tunesmith import BackendError, ComposeRequest
from tunesmith.backends.base import Prompt
from tunesmith.backends.local import LocalBackend
from tunesmith.decoding.decode import Decoder
from tunesmith.decoding.narrow import agrees
from tunesmith.decoding.segments import Forced, Free, OneGrammar, SamplerSettings, Script, Segment
from tunesmith.writing.grammar import grammar_alphabet
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.prompts import render_tunebook
from tunesmith.writing.script import Writing

pytestmark = pytest.mark.model

REQUEST = ComposeRequest(key="D", meter="6/8", bars=2)
WRITING = Writing.of(REQUEST)
PREFIX, SUFFIX, _ = render_tunebook(WRITING)


@pytest.fixture(scope="module")
def backend() -> LocalBackend:
    return LocalBackend()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_loop_writes_what_create_completion_writes_under_the_same_grammar(
    backend: LocalBackend, seed: int
) -> None:
    grammar = WRITING.whole_grammar()
    [lane] = backend.write(
        "",
        PREFIX + SUFFIX,
        [OneGrammar(grammar)],
        seed=seed,
        settings=SamplerSettings(retries=0),
        deadline=None,
    )
    llm = backend.llama
    llm.reset()
    reference = llm.create_completion(
        PREFIX + SUFFIX,
        max_tokens=200,
        temperature=0.8,
        seed=seed,
        grammar=LlamaGrammar.from_string(grammar, verbose=False),
    )
    assert lane.text == reference["choices"][0]["text"]


def test_only_tokens_made_of_the_grammars_characters_are_offered(backend: LocalBackend) -> None:
    decoder = backend.decoder()
    alphabet = grammar_alphabet(WRITING.whole_grammar())
    offered = decoder.words.candidates(alphabet)
    pieces = [
        decoder.words.pieces[int(token)] for token in offered if token not in decoder.words.eog
    ]
    assert all(set(piece) <= alphabet for piece in pieces)
    every = [
        token
        for token, piece in enumerate(decoder.words.pieces)
        if piece and set(piece) <= alphabet
    ]
    assert sorted(int(t) for t in offered if t not in decoder.words.eog) == every
    assert 100 < len(offered) < 262_144 / 50  # of Gemma's whole vocabulary


def test_the_same_seed_gives_the_same_lanes_whether_the_prefix_is_cached_or_not(
    backend: LocalBackend,
) -> None:
    def run() -> list[str]:
        scripts = [PlanScript(WRITING) for _ in range(2)]
        results = backend.write(
            PREFIX, SUFFIX, list(scripts), seed=5, settings=SamplerSettings(), deadline=None
        )
        return [result.text for result in results]

    first = run()  # the prefix may be cached from an earlier test, or evaluated now
    backend.decoder().context.prefix = []  # forget it: evaluated again from scratch
    backend.write(
        "X:1\nT:another tune book\n",
        SUFFIX,
        [PlanScript(WRITING)],
        seed=1,
        settings=SamplerSettings(),
        deadline=None,
    )
    assert run() == first
    assert first[0] != first[1]  # two lanes, two seeds, two tunes


def test_forced_text_is_written_as_it_is_and_free_text_follows_its_grammar(
    backend: LocalBackend,
) -> None:
    class Echo:
        def __init__(self) -> None:
            self.steps: list[Segment] = [
                Forced("|:"),
                Free('root ::= "d3 " ("f3" | "a3") "|"'),
                Forced("d6:|\n"),
            ]

        def next_segment(self, text: str) -> Segment | None:
            return self.steps.pop(0) if self.steps else None

        def allows(self, segment: str) -> bool:
            return "a" not in segment  # a rule: the grammar allows a3, the script does not

        def judge(self, text: str, segment: str) -> int:
            return 0

    [lane] = backend.write(
        PREFIX, SUFFIX, [Echo()], seed=3, settings=SamplerSettings(), deadline=None
    )
    assert lane.text == "|:d3 f3|d6:|\n"


def test_a_deadline_stops_the_loop_with_a_backend_error(backend: LocalBackend) -> None:
    writing = Writing.of(ComposeRequest(key="D", style="reel", bars=32))
    prefix, suffix, _ = render_tunebook(writing)
    with pytest.raises(BackendError, match="ran past its deadline") as caught:
        backend.write(
            prefix,
            suffix,
            [PlanScript(writing)],
            seed=1,
            settings=SamplerSettings(),
            deadline=time.monotonic() + 0.5,
        )
    assert caught.value.retryable


def test_the_narrow_copy_scores_every_token_it_keeps_exactly_as_the_original(
    backend: LocalBackend,
) -> None:
    decoder = backend.decoder()
    narrow = decoder.narrow
    assert narrow is not None
    assert decoder.n_vocab < 262_144 / 10  # the output layer a tenth of the original's
    assert agrees(backend.llama, narrow)  # bit for bit, on a probe of a prompt and a tune
    whole = llama_cpp.llama_model_get_vocab(backend.llama.model)
    ends = [int(token) for token in narrow.original[decoder.words.eog]]
    assert ends
    assert all(llama_cpp.llama_vocab_is_eog(whole, token) for token in ends)


def test_a_grammar_of_other_characters_decodes_on_the_whole_vocabulary(
    backend: LocalBackend,
) -> None:
    grammar = 'root ::= "{\\"tempo\\": " ("96" | "120") "}"'  # t, p: not music's characters
    completion = backend.complete(
        Prompt(document="A tune's settings as JSON:\n"),
        grammar=grammar,
        max_tokens=32,
        temperature=0.8,
        seed=1,
    )
    assert completion.text in {'{"tempo": 96}', '{"tempo": 120}'}
    assert backend.decoder(narrow=False).narrow is None


@pytest.mark.parametrize("damaged", [False, True])
def test_a_prefix_kept_on_disk_gives_the_lanes_an_evaluated_one_gives(
    backend: LocalBackend, tmp_path: Path, damaged: bool
) -> None:
    def decoder() -> Decoder:
        narrow = backend.decoder().narrow
        return Decoder(backend.llama, lanes=2, n_ctx=2048, narrow=narrow, state_dir=tmp_path)

    def lanes(decoder: Decoder) -> list[str]:
        scripts: list[Script] = [PlanScript(WRITING), PlanScript(WRITING)]
        return [lane.text for lane in decoder.run(PREFIX, SUFFIX, scripts, seed=4)]

    first = decoder()
    evaluated = lanes(first)
    first.close()
    [state] = tmp_path.glob("prefix-*.state")
    if damaged:
        state.write_bytes(state.read_bytes()[:1000])
    second = decoder()
    positions: list[int] = []
    decode = second.context.decode

    def counted(items: Sequence[tuple[int, int, Sequence[int], bool]]) -> None:
        positions.extend(p for _, p, _, _ in items)
        decode(items)

    second.context.decode = counted  # type: ignore[method-assign]  # counts what is evaluated
    assert lanes(second) == evaluated
    prefix_tokens = len(second.tokenize(PREFIX, bos=True))
    assert (min(positions) < prefix_tokens) is damaged  # read from disk unless damaged
    second.close()


# "3" and "2" each follow "d" as a token of their own ("de" is one token, which a penalty on
# "2" could not steer: the model may take it before "2" is ever a choice)
@pytest.mark.parametrize(("penalty", "written"), [(1e6, "|:d3"), (-1e6, "|:d2")])
def test_a_segments_penalty_steers_sampling_away_from_the_tokens_it_names(
    backend: LocalBackend, penalty: float, written: str
) -> None:
    class Penalised:
        def __init__(self) -> None:
            self.steps: list[Segment] = [
                Forced("|:"),
                Free('root ::= "d" ("2" | "3")', penalty=penalty, penalised=frozenset("2")),
            ]

        def next_segment(self, text: str) -> Segment | None:
            return self.steps.pop(0) if self.steps else None

        def allows(self, segment: str) -> bool:
            return True

        def judge(self, text: str, segment: str) -> int:
            return 0

    for seed in range(3):
        [lane] = backend.write(
            PREFIX, SUFFIX, [Penalised()], seed=seed, settings=SamplerSettings(), deadline=None
        )
        assert lane.text == written
