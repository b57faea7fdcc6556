"""The folk adapter: shipped, applied by default, and it knows tunes it never saw."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tunesmith.backends.local import LocalBackend, folk_adapter_path
from tunesmith.errors import BackendError, RequestError
from tunesmith.pipeline.compose import backend_from_options

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT_TUNES = 8


def test_the_embedded_model_runs_with_the_shipped_folk_adapter_by_default() -> None:
    backend = LocalBackend()
    assert backend.adapter == folk_adapter_path()
    assert folk_adapter_path().stat().st_size > 1_000_000  # a real LoRA, not a pointer file
    assert backend.model == "gemma-3-270m-q4_k_m+folk-lora"
    assert LocalBackend(adapter=None).model == "gemma-3-270m-q4_k_m"


def test_the_folk_adapter_is_not_applied_to_a_model_of_the_users_own(tmp_path: Path) -> None:
    own = tmp_path / "other.gguf"
    assert LocalBackend(own).adapter is None
    assert LocalBackend(own, adapter=folk_adapter_path()).adapter == folk_adapter_path()


def test_an_adapter_that_is_not_a_file_is_refused_with_the_choices() -> None:
    with pytest.raises(RequestError, match=r"adapter must be a GGUF LoRA file, 'folk' or None"):
        LocalBackend(adapter="no-such-adapter.gguf")


def test_adapter_options_name_the_base_model_the_folk_one_or_a_file() -> None:
    assert backend_from_options("local", adapter="none").model == "gemma-3-270m-q4_k_m"
    assert backend_from_options("local").model.endswith("+folk-lora")
    with pytest.raises(RequestError, match="adapter is for the local backend"):
        backend_from_options("openai", adapter="none")


def test_the_adapters_facts_name_its_base_model_and_its_held_out_tunes() -> None:
    facts = json.loads(folk_adapter_path().with_suffix(".json").read_text())
    assert facts["base_model"] == "gemma-3-270m-q4_k_m"
    assert facts["heldout_loss"]["adapter"] < facts["heldout_loss"]["base"]
    assert len(facts["heldout_ids"]) >= HELD_OUT_TUNES
    training = json.loads((ROOT / "docs" / "training.json").read_text())
    assert training["data"]["corpus_sha256"] == facts["corpus_sha256"]


@pytest.mark.model
def test_a_file_that_is_not_a_lora_adapter_is_a_backend_error_with_a_hint(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF" + b"\x00" * 64)
    backend = LocalBackend(adapter=fake, lanes=1, n_ctx=512)
    with pytest.raises(BackendError, match="could not apply the LoRA adapter") as raised:
        backend.decoder()
    assert "adapter=None" in (raised.value.hint or "")


def _held_out_texts() -> list[str]:
    """Held-out corpus tunes (families the adapter never saw), as the tune book writes them."""
    sys.path.insert(0, str(ROOT / "train"))
    import prepare
    from tunesmith.checks.corpus import corpus_tune

    ids = json.loads(folk_adapter_path().with_suffix(".json").read_text())["heldout_ids"]
    written = prepare.written_rhythms()
    texts = []
    for tune_id in ids[:: max(1, len(ids) // HELD_OUT_TUNES)][:HELD_OUT_TUNES]:
        record = prepare.corpus_cache.record(tune_id, corpus_tune(tune_id))
        texts.append(prepare.example_of(record, written).text(1))
    return texts


@pytest.mark.model
def test_the_folk_adapter_lowers_the_loss_of_held_out_corpus_tunes() -> None:
    texts = _held_out_texts()

    def loss(adapter: Path | None) -> float:
        context = LocalBackend(adapter=adapter, lanes=1).decoder().context
        totals = [context.loss(text) for text in texts]
        return sum(total for total, _ in totals) / sum(count for _, count in totals)

    base, adapted = loss(None), loss(folk_adapter_path())
    assert adapted < base - 0.5, f"nats a token: base {base:.2f}, with the adapter {adapted:.2f}"
