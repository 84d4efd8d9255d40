"""minimistral: Mistral 7B (arXiv 2310.06825) in pure NumPy, to read next to the paper."""

from pathlib import Path as _Path

from .config import ModelArgs
from .errors import MinimistralError
from .model import Mistral
from .tokenizer import GUARDRAIL_PROMPT, Tokenizer

__version__ = "0.1.0"


def load(path, progress=None, sliding_window=None) -> Mistral:
    """Open a checkpoint (an HF, native or .pth directory, or a GGUF file), weights memory-mapped,
    build the model.

    ``progress(layer, n_layers, bytes_read, bytes_total)``, if given, is called as the weights are
    read from disk once, layer by layer (a cold 7B load takes minutes; the CLI draws a bar).
    ``sliding_window=W`` replaces the checkpoint's window: GGUF files usually hold none, so they
    run with full attention unless given one (Mistral 7B v0.1 was trained with W = 4096).
    """
    import os

    from .checkpoints.layout import find_tokenizer, open_checkpoint, page_in
    from .guards.values import callback, describe, whole_number

    if not isinstance(path, (str, os.PathLike)) or path == "":
        raise MinimistralError(f"load() needs a checkpoint directory (a str or a path), got {describe(path)}.")
    callback(progress, "progress", "progress(layer, n_layers, bytes_read, bytes_total)")
    args, weights, _ = open_checkpoint(path)
    if sliding_window is not None:
        args = args.replace(sliding_window=whole_number(sliding_window, "sliding_window", 1))
    tokenizer = find_tokenizer(path)
    if tokenizer is not None and tokenizer.vocab_size > args.vocab_size:
        raise MinimistralError(f"{tokenizer.path} has {tokenizer.vocab_size} tokens but the model only "
                               f"{args.vocab_size}; is it the tokenizer of another model version?")
    if progress is not None:
        page_in(args, weights, progress)
    return Mistral(args, weights, tokenizer=tokenizer)


DEFAULT_MODEL = _Path(__file__).parent / "data" / "story-mistral"


def load_default(progress=None) -> Mistral:
    """The small Mistral that ships in the package, trained by minimistral on its own stories.

    4 layers, D = 128, 8 query heads on 2 kv heads, window W = 16, the real 32000-token tokenizer;
    how it was trained and how well it does: minimistral/data/story-mistral/TRAINING.md, RESULTS.md.

        model = minimistral.load_default()
        ids = model.tokenizer.encode("The cat sat on the mat and saw the dog go to the")
        model.tokenizer.decode(model.generate(ids, max_tokens=2))      # greedy: 'garden.'
    """
    if not (DEFAULT_MODEL / "model.safetensors").exists():
        raise MinimistralError(f"the shipped model is missing from {DEFAULT_MODEL}; reinstall minimistral.")
    return load(DEFAULT_MODEL, progress)


__all__ = ["ModelArgs", "Mistral", "MinimistralError", "Tokenizer", "GUARDRAIL_PROMPT", "load", "load_default",
           "__version__"]
