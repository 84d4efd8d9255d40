"""Worked solutions for notebooks/03_gqa.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
# Groups of G = 32 / 8 = 4 consecutive query heads: 12..15 read kv head 3.
answer_1 = int(kv_head_of(32, 8)[13])

# %% exercise-2
config = {"hidden_size": 8192, "num_hidden_layers": 80, "num_attention_heads": 64,
          "num_key_value_heads": 8, "torch_dtype": "bfloat16"}
head_dim = config["hidden_size"] // config["num_attention_heads"]            # 128
answer_2 = kv_cache_bytes(config["num_hidden_layers"], config["num_key_value_heads"], head_dim,
                          n_positions=1, bytes_per_value=2)                 # 327,680 B = 320 KiB

# %% exercise-3
ratio = config["num_attention_heads"] // config["num_key_value_heads"]      # 8
gib = kv_cache_bytes(80, 8, 128, 4096, 2) / 2**30                           # 1.25 GiB
answer_3 = (ratio, gib)

# %% exercise-4
wk_mha = np.random.default_rng(1).standard_normal((8 * 4, 16)).astype(np.float32)
H, K, Hd = 8, 2, 4
# [H*Hd, D] -> [K, G, Hd, D]: the G heads of each group side by side, then their mean.
answer_4 = wk_mha.reshape(K, H // K, Hd, -1).mean(axis=1).reshape(K * Hd, -1)
