"""minimistral: Mistral 7B (arXiv 2310.06825) in pure NumPy, to read next to the paper."""

from .config import ModelArgs
from .errors import MinimistralError
from .model import Mistral
from .tokenizer import GUARDRAIL_PROMPT, Tokenizer

__version__ = "0.1.0"


def load(path) -> Mistral:
    """Open a checkpoint directory (HF or Mistral layout), weights memory-mapped, and build the model."""
    from .checkpoint import open_checkpoint

    args, weights, _ = open_checkpoint(path)
    return Mistral(args, weights, tokenizer=_find_tokenizer(path))


def _find_tokenizer(path):
    from pathlib import Path

    for name in ("tokenizer.model", "tokenizer.model.v1", "tokenizer.model.v3"):
        candidate = Path(path) / name
        if candidate.exists():
            return Tokenizer(candidate)
    return None


__all__ = ["ModelArgs", "Mistral", "MinimistralError", "Tokenizer", "GUARDRAIL_PROMPT", "load", "__version__"]
