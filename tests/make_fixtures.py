"""Regenerate the golden fixtures in tests/fixtures/ (needs torch + transformers).

    python tests/make_fixtures.py

Writes a tiny random Mistral saved by transformers' save_pretrained in bf16 (GQA, window 5,
shorter than the 19-token input) and the logits transformers computes for it in float32 eager
mode, so the default test suite checks against transformers without needing torch.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from reference.hf_models import CONFIGS, make_hf_model, reference_logits, save_hf  # noqa: E402

FIXTURE = HERE / "fixtures" / "tiny_hf_bf16"


def main():
    shutil.rmtree(FIXTURE, ignore_errors=True)
    FIXTURE.mkdir(parents=True)
    model_dir = FIXTURE / "model"
    save_hf(make_hf_model(CONFIGS["gqa_window"], seed=7), model_dir, "bfloat16")
    for extra in model_dir.iterdir():
        if extra.name not in ("config.json", "model.safetensors"):
            extra.unlink()   # generation_config.json etc. are not part of what we test
    tokens = np.random.default_rng(8).integers(0, CONFIGS["gqa_window"]["vocab_size"], 19)
    np.save(FIXTURE / "tokens.npy", tokens.astype(np.int64))
    np.save(FIXTURE / "logits.npy", reference_logits(model_dir, tokens).astype(np.float32))
    import torch
    import transformers
    (FIXTURE / "SOURCE.json").write_text(json.dumps({
        "made_by": "tests/make_fixtures.py", "transformers": transformers.__version__,
        "torch": torch.__version__, "config": "gqa_window", "seed": 7}, indent=1) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
