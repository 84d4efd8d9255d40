import pytest

from minimistral import MinimistralError, ModelArgs


def test_defaults_are_table_1():
    a = ModelArgs()
    assert (a.dim, a.n_layers, a.head_dim, a.hidden_dim, a.n_heads, a.n_kv_heads, a.sliding_window,
            a.context_len, a.vocab_size) == (4096, 32, 128, 14336, 32, 8, 4096, 8192, 32000)
    assert a.n_params() == 7_241_732_096     # docs/mistral-7b.md §1


RELEASED_V01 = {  # mistralai/Mistral-7B-v0.1 config.json as released
    "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
    "sliding_window": 4096, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.34.0.dev0", "use_cache": True, "vocab_size": 32000}


def test_released_hf_config():
    a = ModelArgs.from_hf_config(RELEASED_V01)
    assert a.head_dim == 128 and a.sliding_window == 4096 and a.rope_theta == 1e4 and a.n_rep == 4


def test_newer_rope_parameters_and_no_window():
    cfg = dict(RELEASED_V01, sliding_window=None)
    del cfg["rope_theta"]
    cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": 1000000.0}
    a = ModelArgs.from_hf_config(cfg)
    assert a.rope_theta == 1e6 and a.sliding_window is None


def test_params_json_v01():
    a = ModelArgs.from_params_json({"dim": 4096, "n_layers": 32, "head_dim": 128, "hidden_dim": 14336,
                                    "n_heads": 32, "n_kv_heads": 8, "norm_eps": 1e-05,
                                    "sliding_window": 4096, "vocab_size": 32000})
    assert a == ModelArgs()


@pytest.mark.parametrize("change, word", [
    ({"num_attention_heads": 5, "head_dim": None}, "divisible"),
    ({"num_key_value_heads": 3}, "multiple"),
    ({"sliding_window": 0}, "sliding_window"),
    ({"hidden_size": "4096"}, "hidden_size must be a positive integer"),
])
def test_bad_configs_raise_user_error(change, word):
    cfg = {k: v for k, v in {**RELEASED_V01, **change}.items() if v is not None}
    with pytest.raises(MinimistralError, match=word):
        ModelArgs.from_hf_config(cfg)
