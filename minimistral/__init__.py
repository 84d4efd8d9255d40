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

    from .checkpoints.adapter import open_model
    from .checkpoints.layout import find_tokenizer, page_in
    from .guards.values import callback, describe, whole_number

    if not isinstance(path, (str, os.PathLike)) or path == "":
        raise MinimistralError(f"load() needs a checkpoint directory (a str or a path), got {describe(path)}.")
    callback(progress, "progress", "progress(layer, n_layers, bytes_read, bytes_total)")
    args, weights, _ = open_model(path)
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
DEFAULT_INSTRUCT = _Path(__file__).parent / "data" / "story-mistral-instruct"   # an adapter over DEFAULT_MODEL


def default_chat_model() -> tuple[_Path, str]:
    """(directory, 'instruct' or 'story'): the shipped model `minimistral chat` uses without --model,
    the instruct adapter when it ships (training/instruct.py), else the story model."""
    if (DEFAULT_INSTRUCT / "adapter.json").exists():
        return DEFAULT_INSTRUCT, "instruct"
    return DEFAULT_MODEL, "story"


def load_default(progress=None, instruct: bool = False) -> Mistral:
    """The small Mistral that ships in the package, trained by minimistral on its own stories.

    6 layers, D = 128, 8 query heads on 2 kv heads, window W = 32, the real 32000-token tokenizer;
    how it was trained and how well it does: minimistral/data/story-mistral/TRAINING.md, RESULTS.md.

        model = minimistral.load_default()
        ids = model.tokenizer.encode("The cat sat on the mat and saw the dog go to the")
        model.tokenizer.decode(model.generate(ids, max_tokens=8, temperature=0.0))

    ``instruct=True``: the same model instruction-tuned to answer questions about short stories
    in the [INST] template (training/instruct.py), loaded as the story model plus the tensors
    the fine-tuning changed (checkpoints/adapter.py); MinimistralError if none ships yet.
    """
    if instruct:
        if not (DEFAULT_INSTRUCT / "adapter.json").exists():
            raise MinimistralError(f"no instruct model ships with this minimistral ({DEFAULT_INSTRUCT} is "
                                   f"missing); make one with `minimistral finetune --out DIR` and load DIR.")
        return load(DEFAULT_INSTRUCT, progress)
    if not (DEFAULT_MODEL / "model.safetensors").exists():
        raise MinimistralError(f"the shipped model is missing from {DEFAULT_MODEL}; reinstall minimistral.")
    return load(DEFAULT_MODEL, progress)


__all__ = ["ModelArgs", "Mistral", "MinimistralError", "Tokenizer", "GUARDRAIL_PROMPT", "load", "load_default",
           "default_chat_model", "__version__"]
