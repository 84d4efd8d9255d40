"""Instruction tuning (training/instructions.py, training/instruct.py) and its adapter (checkpoints/adapter.py).

References: mistral-common's v1 tokenizer in finetuning mode for the chat template ids of the
training data (a conversation ending with the assistant's answer); the story generator's own
Plan for the answers; the trained float32 parameters for what an adapter loads back.
"""

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import minimistral
from minimistral import GUARDRAIL_PROMPT, MinimistralError
from minimistral.checkpoints.export import write_hf_checkpoint
from minimistral.config import ModelArgs
from minimistral.fast.linear import bf16_to_float32, float32_to_bf16
from minimistral.training import corpus, instruct, instructions
from minimistral.training.init import init_params
from minimistral.training.instruct import (
    FinetuneConfig,
    answer_accuracy,
    finetune,
    native_float32,
)
from minimistral.training.instructions import (
    REFUSAL,
    Example,
    encode_example,
    instruction_set,
)

TINY = ModelArgs(dim=32, n_layers=2, head_dim=8, hidden_dim=48, n_heads=4, n_kv_heads=2, sliding_window=16,
                 context_len=8192, vocab_size=32000)
SMOKE = FinetuneConfig(steps=3, batch=4, warmup=1, train_examples=24, heldout_examples=4, eval_every=2,
                       eval_examples=2)


@pytest.fixture(scope="module")
def tok():
    return corpus.tokenizer()


@pytest.fixture(scope="module")
def train_set():
    return instruction_set("train", 600)


@pytest.fixture(scope="module")
def heldout_set():
    return instruction_set("heldout", 60)


# ---- the instruction set -----------------------------------------------------------------------

def test_the_set_is_seeded_and_deterministic(train_set):
    assert instruction_set("train", 50) == train_set[:50]
    assert instructions.make_example(7) == instructions.make_example(7)
    assert instruction_set("train", 50, seed=1) != train_set[:50]


def test_every_kind_occurs_with_and_without_the_guardrail(train_set):
    kinds = {e.kind for e in train_set}
    assert kinds == set(instructions.KINDS)
    assert all(e.system == GUARDRAIL_PROMPT for e in train_set if e.kind == "refusal")
    benign = [e for e in train_set if e.kind != "refusal"]
    share = np.mean([e.system is not None for e in benign])
    assert 0.1 < share < 0.4                          # the guardrail is not a synonym of "refuse"
    assert any(len(e.turns) == 4 for e in train_set)  # two question turns
    assert all(e.answer == REFUSAL for e in train_set if e.kind == "refusal")


def test_held_out_is_by_story_and_shares_no_prompt_with_training(train_set, heldout_set):
    for e in heldout_set:
        assert e.split == "heldout" == corpus.split_of(corpus.story(0, e.story))
    assert {e.story for e in train_set}.isdisjoint({e.story for e in heldout_set})
    assert all(e.split == "train" for e in train_set)

    def prompt(e):
        return (e.system,) + tuple(t for r, t in e.turns if r == "user")
    shared = {prompt(e) for e in train_set if e.kind != "name"} & {prompt(e) for e in heldout_set}
    assert shared == set()


def test_answers_come_from_the_story(train_set):
    """The answer to a question about the story is in the story: names and places in the excerpt
    the user gave, the next sentence in the full story."""
    for e in train_set:
        plan = corpus.story_plan(0, e.story)
        story_turn = e.turns[0][1]
        if e.kind in ("who", "what", "where"):
            core = e.answer.rstrip(".")
            for prefix in ("A ", "An ", "In ", "To "):
                if e.kind != "who" and core.startswith(prefix):
                    core = core[len(prefix):]
            assert all(part in story_turn for part in core.split(" and ")), (e.turns, e.answer)
        elif e.kind == "after":
            question = e.turns[-2][1]
            before = question.split("What happened after this: ", 1)[1]
            assert f"{before} {e.answer}" in " ".join(s.text for s in instructions._body(plan))
        elif e.kind == "continue":
            assert e.answer in plan.text and e.answer not in story_turn
        elif e.kind == "how_many" and e.turns[-2][1].startswith("How many names"):
            names = set(re.findall(r"\b[A-Z][a-z]+\b", story_turn)) & corpus.NAMES
            assert e.answer == f"{instructions._number(len(names))}.", (story_turn, e.answer)


def test_every_answer_token_is_a_piece_of_the_stories(train_set, tok):
    """The output layer stays frozen, so answers use only pieces the base learned to predict."""
    seen = set(np.unique(corpus.token_stream("train", 1_500_000, 0, tok)).tolist())
    missing = set()
    for e in train_set:
        ids, mask = encode_example(e, tok)
        missing |= {tok.piece(int(i)) for i, m in zip(ids, mask) if m and int(i) not in seen}
    assert missing == set()


def test_conversations_fit_a_few_hundred_tokens(train_set, tok):
    lengths = [len(encode_example(e, tok)[0]) for e in train_set]
    assert max(lengths) <= 300 and np.mean(lengths) < 150


# ---- the chat template ---------------------------------------------------------------------------

def mistral_common_ids(ex: Example) -> list[int]:
    """mistral-common's v1 tokenizer, finetuning mode: a conversation ending with the answer."""
    import mistral_common
    from mistral_common.protocol.instruct.messages import (
        AssistantMessage,
        SystemMessage,
        UserMessage,
    )
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.validator import ValidationMode
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    path = Path(mistral_common.__file__).parent / "data" / "tokenizer.model.v1"
    mt = MistralTokenizer.from_file(str(path), mode=ValidationMode.finetuning)
    kinds = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
    request = ChatCompletionRequest(messages=[kinds[m["role"]](content=m["content"]) for m in ex.messages()])
    return mt.encode_chat_completion(request).tokens


def sample_of_every_shape(examples):
    """An example of every kind, each with and without the guardrail, one and two turns, both
    separators between story and question."""
    picked = {}
    for e in examples:
        key = (e.kind, e.system is not None, len(e.turns), "\n\n" in e.turns[0][1])
        picked.setdefault(key, e)
    return list(picked.values())


def test_training_ids_equal_mistral_commons_template(train_set, tok):
    pytest.importorskip("mistral_common")
    sample = sample_of_every_shape(train_set)
    assert len(sample) >= 20
    for e in sample:
        ids, _ = encode_example(e, tok)
        assert ids.tolist() == mistral_common_ids(e), e.kind


def test_ids_are_encode_chat_then_the_answer(train_set, tok):
    for e in sample_of_every_shape(train_set):
        ids, _ = encode_example(e, tok)
        assert ids.tolist() == e.prompt_ids(tok) + tok.encode_answer(e.answer)


def test_the_loss_mask_covers_exactly_the_answers(train_set, tok):
    for e in sample_of_every_shape(train_set):
        ids, mask = encode_example(e, tok)
        answers = [t for r, t in e.turns if r == "assistant"]
        expected = [i for a in answers for i in tok.encode_answer(a)]
        assert ids[mask == 1].tolist() == expected
        assert set(np.unique(mask).tolist()) == {0.0, 1.0}


def test_batches_pad_with_eos_and_mask_the_padding(train_set, tok):
    batches = instructions.InstructBatches(train_set[:10], 4, tok, seed=0)
    tokens, mask = batches[0]
    assert tokens.shape == mask.shape and tokens.shape[0] == 4
    for b, i in enumerate(batches.indices(0)):
        ids, m = batches.encoded[i]
        assert tokens[b, :len(ids)].tolist() == ids.tolist()
        assert (tokens[b, len(ids):] == tok.eos_id).all() and (mask[b, len(ids):] == 0).all()
    # an epoch is a permutation: 10 conversations in batches of 4 -> each once in the first 10 slots
    seen = batches.indices(0) + batches.indices(1) + batches.indices(2)[:2]
    assert sorted(seen) == list(range(10))
    assert instructions.InstructBatches(train_set[:10], 4, tok, seed=0)[3][0].tolist() == batches[3][0].tolist()


# ---- evaluation ------------------------------------------------------------------------------

def test_accuracy_counts_exact_answers(heldout_set, monkeypatch):
    model = minimistral.load_default()
    examples = heldout_set[:12]
    monkeypatch.setattr(instruct, "generate_answer", lambda m, e, n=48: " " + e.answer + " ")
    right = answer_accuracy(model, examples)
    assert right["accuracy"] == 1.0 and right["examples"] == 12
    monkeypatch.setattr(instruct, "generate_answer", lambda m, e, n=48: e.answer.rstrip("."))
    assert answer_accuracy(model, examples)["accuracy"] == 0.0      # a missing full stop is wrong
    name = next(e for e in instruction_set("train", 300) if e.kind == "name")
    monkeypatch.setattr(instruct, "generate_answer", lambda m, e, n=48: e.accept[-1])
    assert name.accept[-1] != name.answer and answer_accuracy(model, [name])["accuracy"] == 1.0


def test_accuracy_of_the_shipped_base_model_runs(heldout_set):
    """The same function scores a base model: here the story model, greedy, on a few questions."""
    model = minimistral.load_default()
    out = answer_accuracy(model, heldout_set[:3], max_tokens=8, samples=2)
    assert out["examples"] == 3 and 0.0 <= out["accuracy"] <= 1.0
    assert set(out["by_kind"]) == set(instructions.KINDS) and len(out["samples"]) == 2
    assert instruct.answer_loss(model, heldout_set[:3]) > 0


# ---- fine-tuning and the adapter --------------------------------------------------------------

SHARED = ["▁[", "INST", "]", "/"]       # pieces a compact-vocabulary base gives one shared row


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, tok):
    """A tiny HF checkpoint (q/k rows permuted on disk, bf16) whose [INST] pieces share one row."""
    params = init_params(TINY, seed=3, std=0.1)
    table = params["tok_embeddings.weight"]
    ids = [tok.sp.piece_to_id(p) for p in SHARED]
    table[ids] = table[ids[0]]
    return write_hf_checkpoint(tmp_path_factory.mktemp("base") / "tiny", TINY, params, "BF16")


@pytest.fixture(scope="module")
def tuned(tiny_base, tmp_path_factory):
    out = tmp_path_factory.mktemp("adapter") / "tuned"
    return finetune(tiny_base, out, SMOKE.__class__(**{**SMOKE.__dict__, "dtype": "F32"}))


def test_base_plus_adapter_is_exactly_the_fine_tuned_model(tuned, tiny_base, tok):
    loaded = native_float32(minimistral.load(tuned.out_dir))
    base = native_float32(minimistral.load(tiny_base))
    assert loaded.keys() == tuned.params.keys()
    for name, x in tuned.params.items():
        assert np.array_equal(loaded[name], x), name
    # what was frozen is the base's, bit for bit; what was trained moved
    assert np.array_equal(loaded["output.weight"], base["output.weight"])
    rows = [tok.sp.piece_to_id(p) for p in SHARED]
    others = np.setdiff1d(np.arange(32000), rows)
    assert np.array_equal(loaded["tok_embeddings.weight"][others], base["tok_embeddings.weight"][others])
    assert not np.array_equal(loaded["tok_embeddings.weight"][rows], base["tok_embeddings.weight"][rows])
    assert not np.array_equal(loaded["layers.0.attention.wq.weight"], base["layers.0.attention.wq.weight"])
    meta = json.loads((tuned.out_dir / "adapter.json").read_text())
    assert meta["embedding_rows"] == sorted(rows) and "output.weight" not in meta["tensors"]
    assert meta["base"] == str(Path(tiny_base).resolve())


def test_the_adapter_is_small(tuned, tiny_base):
    adapter = (tuned.out_dir / "adapter.safetensors").stat().st_size
    base = (Path(tiny_base) / "model.safetensors").stat().st_size
    assert adapter < 0.15 * base * 2          # float32 adapter against a bf16 base: embedding and output stay


def test_a_bf16_adapter_holds_the_rounded_weights(tiny_base, tmp_path):
    result = finetune(tiny_base, tmp_path / "bf16", SMOKE)
    loaded = native_float32(minimistral.load(tmp_path / "bf16"))
    for name in instruct.trainable_names(TINY):
        assert np.array_equal(loaded[name], bf16_to_float32(float32_to_bf16(result.params[name]))), name


def test_the_log_and_the_evaluation(tuned):
    rows = [json.loads(line) for line in (tuned.out_dir / "finetune_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert rows[1]["heldout_loss"] is not None and rows[0]["heldout_loss"] is None
    ev = json.loads((tuned.out_dir / "eval.json").read_text())
    assert ev["heldout_examples"] == 4 and {"base", "instruct"} <= ev.keys()
    assert "held-out exact answers" in tuned.summary()


def test_fine_tuning_lowers_the_answer_loss(tiny_base, tmp_path):
    """A few dozen steps at a high rate on 8 conversations: the masked training loss falls (from
    about 10 to 7.5 nats on this tiny random model, whose output layer stays frozen)."""
    c = FinetuneConfig(steps=24, batch=8, lr=1e-2, warmup=2, train_examples=8, heldout_examples=2,
                       eval_every=100, eval_examples=1)
    rows = finetune(tiny_base, tmp_path / "fit", c).log
    assert np.mean([r["loss"] for r in rows[-4:]]) < 0.85 * np.mean([r["loss"] for r in rows[:4]])


def test_an_adapter_on_another_base_is_refused(tuned, tiny_base, tmp_path):
    moved = Path(shutil.copytree(tuned.out_dir, tmp_path / "moved"))
    other = write_hf_checkpoint(tmp_path / "other", TINY, init_params(TINY, seed=4), "BF16")
    meta = json.loads((moved / "adapter.json").read_text())
    meta["base"] = str(other)
    (moved / "adapter.json").write_text(json.dumps(meta))
    with pytest.raises(MinimistralError, match="not the model"):
        minimistral.load(moved)
    meta["base"] = str(tmp_path / "nowhere")
    (moved / "adapter.json").write_text(json.dumps(meta))
    with pytest.raises(MinimistralError, match="not a directory"):
        minimistral.load(moved)


def test_load_default_instruct(monkeypatch, tmp_path, tuned):
    monkeypatch.setattr(minimistral, "DEFAULT_INSTRUCT", tmp_path / "none")
    with pytest.raises(MinimistralError, match="no instruct model ships"):
        minimistral.load_default(instruct=True)
    assert minimistral.default_chat_model() == (minimistral.DEFAULT_MODEL, "story")
    monkeypatch.setattr(minimistral, "DEFAULT_INSTRUCT", tuned.out_dir)
    assert minimistral.default_chat_model() == (tuned.out_dir, "instruct")
    model = minimistral.load_default(instruct=True)
    assert np.array_equal(native_float32(model)["norm.weight"], tuned.params["norm.weight"])


def test_bad_configs_are_one_sentence(tiny_base, tmp_path):
    for bad, word in ((dict(steps=0), "steps"), (dict(lr=-1.0), "lr"), (dict(dtype="F16"), "dtype")):
        with pytest.raises(MinimistralError, match=word):
            finetune(tiny_base, tmp_path / "x", FinetuneConfig(**bad))
    with pytest.raises(MinimistralError, match="does not exist"):
        finetune(tmp_path / "missing", tmp_path / "y", SMOKE)


def test_the_shipped_instruct_model_if_it_ships():
    """Once data/story-mistral-instruct/ ships: it loads over the shipped base and answers."""
    if not (minimistral.DEFAULT_INSTRUCT / "adapter.json").exists():
        pytest.skip("no instruct model ships yet (minimistral finetune --out minimistral/data/story-mistral-instruct)")
    model = minimistral.load_default(instruct=True)
    out = answer_accuracy(model, instruction_set("heldout", 40))
    # measured (data/story-mistral-instruct/TRAINING.md): 0.425 on these 40 (0.477 on 300; the
    # base model with the same prompts: 0.0); refusals under the guardrail 5 of 5
    assert out["accuracy"] > 0.425 - 0.1
    assert out["by_kind"]["refusal"]["accuracy"] == 1.0
    assert os.path.getsize(minimistral.DEFAULT_INSTRUCT / "adapter.safetensors") < \
        0.5 * os.path.getsize(minimistral.DEFAULT_MODEL / "model.safetensors")
