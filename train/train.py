"""Train the embedded model's folk adapter: a LoRA on the narrow copy, written for llama.cpp.

From data to file, in one pass a reader can follow:

1. the narrow copy of the embedded model (``tunesmith.decoding.narrow``: Gemma 3 270M whose
   output layer keeps the ~16,700 tokens music is written in) is read with ``gguf`` and
   rebuilt as a ``transformers`` Gemma 3 (llama.cpp stores RMS-norm weights plus one);
   tokens going in get the original model's input embeddings, as in the decoding loop;
2. a LoRA (``peft``) on every attention and MLP projection of every layer is trained on
   ``train/prepare.py``'s sequences, tokens outside the narrow vocabulary (words of titles)
   counting as input only;
3. the adapter is written as a llama.cpp GGUF LoRA (``src/tunesmith/data/folk-lora.gguf``,
   shipped with tunesmith) and in peft's format (``.cache/train/peft/``: it touches no
   embedding, so it fits the full-vocabulary model too, e.g. for vLLM);
4. every figure (configuration, corpus hash, held-out loss before and after, the loss curve,
   tokens a second) goes to ``docs/training.json``, which ``docs/training.md`` quotes, and the
   adapter's facts to ``src/tunesmith/data/folk-lora.json``.

Run from the repository root, after ``make setup``, ``pip install -e '.[train]'`` and
``train/prepare.py``::

    .venv/bin/python train/train.py            # CPU (hours) or one CUDA GPU (a minute)
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent

# --- configuration -------------------------------------------------------------------------
RANK = 16
ALPHA = 32
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
EPOCHS = 1.0
"""Passes over the training sequences (a fraction stops early: the CPU's time is short)."""
BATCH = 8
"""Sequences of ``prepare.SEQUENCE`` tokens a step."""
LEARNING_RATE = 5e-4
WARMUP = 10
WEIGHT_DECAY = 0.0
SEED = 1
EVAL_EVERY = 50
THREADS = int(os.environ.get("TRAIN_THREADS") or os.cpu_count() or 1)
DATA = ROOT / ".cache" / "train"
ADAPTER = ROOT / "src" / "tunesmith" / "data" / "folk-lora.gguf"
REPORT = ROOT / "docs" / "training.json"
BASE_MODEL = "google/gemma-3-270m"
"""The Hugging Face model the GGUF was made from (named in peft's adapter_config.json)."""
# -------------------------------------------------------------------------------------------

_LAYER = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_q_norm": "self_attn.q_norm",
    "attn_k_norm": "self_attn.k_norm",
    "attn_norm": "input_layernorm",
    "post_attention_norm": "post_attention_layernorm",
    "ffn_norm": "pre_feedforward_layernorm",
    "post_ffw_norm": "post_feedforward_layernorm",
}
_GGUF_NAME = {hf.split(".")[-1]: name for name, hf in _LAYER.items() if "norm" not in name}


def narrow_copy() -> Any:
    """The embedded model's narrow copy (made by ``make setup``)."""
    from tunesmith.backends.local import LocalBackend, _cache_dir
    from tunesmith.decoding.narrow import narrow_model

    backend = LocalBackend(adapter=None)
    copy = narrow_model(backend.model_path, backend.llama, _cache_dir())
    if copy is None:
        sys.exit("the embedded model has no narrow copy: run `make setup` first")
    return copy


def gemma(path: Path, dtype: torch.dtype) -> Any:
    """The GGUF at ``path`` as a ``transformers`` Gemma 3 (text) model."""
    from gguf import GGUFReader, quants
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    reader = GGUFReader(path)
    field = {f.name: f.contents() for f in reader.fields.values() if not f.name.startswith("GGUF")}
    config = Gemma3TextConfig(
        vocab_size=len(field["tokenizer.ggml.tokens"]),
        hidden_size=field["gemma3.embedding_length"],
        intermediate_size=field["gemma3.feed_forward_length"],
        num_hidden_layers=field["gemma3.block_count"],
        num_attention_heads=field["gemma3.attention.head_count"],
        num_key_value_heads=field["gemma3.attention.head_count_kv"],
        head_dim=field["gemma3.attention.key_length"],
        sliding_window=field["gemma3.attention.sliding_window"],
        rms_norm_eps=field["gemma3.attention.layer_norm_rms_epsilon"],
        query_pre_attn_scalar=field["gemma3.attention.key_length"],
        max_position_embeddings=field["gemma3.context_length"],
        rope_parameters={
            "full_attention": {
                "rope_type": "default",
                "rope_theta": field["gemma3.rope.freq_base"],
            },
            "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
        },
        tie_word_embeddings=True,
        attn_implementation="sdpa",
    )
    model = Gemma3ForCausalLM(config)
    state = {}
    for tensor in reader.tensors:
        weights = torch.from_numpy(
            np.array(quants.dequantize(tensor.data, tensor.tensor_type), np.float32)
        )
        parts = tensor.name.split(".")
        if tensor.name == "token_embd.weight":
            state["model.embed_tokens.weight"] = weights
        elif tensor.name == "output_norm.weight":
            state["model.norm.weight"] = weights - 1
        else:
            name = f"model.layers.{parts[1]}.{_LAYER[parts[2]]}.weight"
            state[name] = weights - 1 if "norm" in parts[2] else weights
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {"lm_head.weight"}:
        sys.exit(f"the GGUF does not fit Gemma 3: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    return model.to(dtype)


class Batches:
    """Training sequences as model inputs: original tokens in, narrow-copy tokens out."""

    def __init__(self, copy: Any, data: np.ndarray, lengths: np.ndarray) -> None:
        self.data, self.lengths = data, lengths
        used = np.unique(data)
        self.index = {int(token): row for row, token in enumerate(used)}
        self.embeddings = torch.from_numpy(copy.embeddings(used))
        narrow = {int(token): index for index, token in enumerate(copy.original)}
        self.target = np.array([narrow.get(int(token), -100) for token in used], np.int64)
        self.local = np.vectorize(self.index.__getitem__)(data)

    def __len__(self) -> int:
        return len(self.lengths)

    def get(self, rows: np.ndarray, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """Input embeddings, attention mask and labels (already shifted) of ``rows``."""
        local = torch.from_numpy(self.local[rows])
        embeddings = self.embeddings[local].to(dtype)
        positions = torch.arange(self.data.shape[1])
        mask = positions[None, :] < torch.from_numpy(self.lengths[rows])[:, None]
        labels = torch.from_numpy(self.target[self.local[rows]])
        labels = torch.where(mask, labels, -100)
        shifted = torch.full_like(labels, -100)
        shifted[:, :-1] = labels[:, 1:]
        return embeddings, mask.long(), shifted


def loss_of(model: Any, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy in nats a predicted token, and how many tokens were predicted."""
    embeddings, mask, labels = batch
    logits = model(inputs_embeds=embeddings, attention_mask=mask).logits
    counted = int((labels != -100).sum())
    loss = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100
    )
    return loss, counted


@torch.no_grad()
def evaluate(model: Any, batches: Batches, dtype: torch.dtype) -> float:
    """Held-out loss, nats a token, over every held-out sequence."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(batches), BATCH):
        rows = np.arange(start, min(start + BATCH, len(batches)))
        loss, counted = loss_of(model, batches.get(rows, dtype))
        total += float(loss) * counted
        count += counted
    model.train()
    return total / count


def write_gguf_adapter(model: Any, path: Path, facts: dict[str, Any]) -> None:
    """The LoRA as llama.cpp reads it: ``blk.N.attn_q.weight.lora_a`` (r x in) and ``lora_b``."""
    import gguf

    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    writer = gguf.GGUFWriter(temporary, arch="gemma3")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(ALPHA))
    writer.add_string("general.name", "tunesmith folk LoRA")
    writer.add_string("tunesmith.corpus_sha256", facts["corpus_sha256"])
    for name, module in model.named_modules():
        if not hasattr(module, "lora_A") or "default" not in module.lora_A:
            continue
        layer = name.split(".layers.")[1].split(".")[0]
        base = f"blk.{layer}.{_GGUF_NAME[name.split('.')[-1]]}.weight"
        a = module.lora_A["default"].weight.detach().float().numpy()
        b = module.lora_B["default"].weight.detach().float().numpy()
        writer.add_tensor(f"{base}.lora_a", a.astype(np.float16))
        writer.add_tensor(f"{base}.lora_b", b.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(temporary, path)


def main() -> None:
    """Train, evaluate and write the adapter and its figures."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16
    manifest = json.loads((DATA / "manifest.json").read_text())
    arrays = np.load(DATA / "data.npz")
    copy = narrow_copy()
    train = Batches(copy, arrays["train"], arrays["train_lengths"])
    heldout = Batches(copy, arrays["heldout"], arrays["heldout_lengths"])

    model = gemma(copy.path, dtype)
    base_loss = evaluate(model, heldout, dtype)
    print(f"held-out loss of the base model: {base_loss:.3f} nats a token", flush=True)
    lora = LoraConfig(
        r=RANK,
        lora_alpha=ALPHA,
        target_modules=list(TARGETS),
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora).to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    steps = max(1, int(len(train) * EPOCHS) // BATCH)
    order = np.random.default_rng(SEED).permutation(
        np.tile(np.arange(len(train)), math.ceil(EPOCHS))
    )

    def rate(step: int) -> float:
        if step < WARMUP:
            return (step + 1) / WARMUP
        return 0.5 * (1 + math.cos(math.pi * (step - WARMUP) / max(1, steps - WARMUP)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    curve, heldout_curve, tokens, started = [], [(0, base_loss)], 0, time.perf_counter()
    for step in range(steps):
        rows = order[step * BATCH : (step + 1) * BATCH]
        batch = tuple(t.to(device) for t in train.get(rows, dtype))
        loss, _ = loss_of(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        scheduler.step()
        optimiser.zero_grad()
        tokens += int(train.lengths[rows].sum())
        elapsed = time.perf_counter() - started
        curve.append((step + 1, round(float(loss), 4)))
        print(
            f"step {step + 1}/{steps} loss {float(loss):.3f} {tokens / elapsed:.0f} tokens/s",
            flush=True,
        )
        if (step + 1) % EVAL_EVERY == 0 or step + 1 == steps:
            heldout_curve.append((step + 1, evaluate(model, heldout, dtype)))
            print(f"held-out loss {heldout_curve[-1][1]:.3f}", flush=True)
            write_gguf_adapter(model, DATA / "checkpoint.gguf", manifest)
    seconds = time.perf_counter() - started

    write_gguf_adapter(model, ADAPTER, manifest)
    model.peft_config["default"].base_model_name_or_path = BASE_MODEL
    model.save_pretrained(DATA / "peft")
    report = {
        "config": {
            "rank": RANK,
            "alpha": ALPHA,
            "targets": TARGETS,
            "epochs": EPOCHS,
            "batch_sequences": BATCH,
            "sequence": manifest["sequence"],
            "learning_rate": LEARNING_RATE,
            "warmup_steps": WARMUP,
            "weight_decay": WEIGHT_DECAY,
            "seed": SEED,
            "dtype": str(dtype),
        },
        "data": {
            k: manifest[k]
            for k in (
                "collections",
                "essen_share",
                "held_out_percent",
                "corpus_sha256",
                "families",
                "counts",
            )
        },
        "machine": {
            "device": device,
            "threads": THREADS,
            "processor": platform.processor(),
            "torch": torch.__version__,
        },
        "steps": steps,
        "tokens_seen": tokens,
        "seconds": round(seconds),
        "tokens_per_second": round(tokens / seconds),
        "heldout_loss": {"base": round(base_loss, 4), "adapter": round(heldout_curve[-1][1], 4)},
        "heldout_curve": [(s, round(v, 4)) for s, v in heldout_curve],
        "train_curve": curve,
    }
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    facts = {
        "name": "folk-lora",
        "base_model": "gemma-3-270m-q4_k_m",
        "rank": RANK,
        "alpha": ALPHA,
        "corpus_sha256": manifest["corpus_sha256"],
        "heldout_loss": report["heldout_loss"],
        "heldout_ids": manifest["heldout_ids"],
    }
    ADAPTER.with_suffix(".json").write_text(json.dumps(facts, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if "curve" not in k}, indent=1))


if __name__ == "__main__":
    main()
