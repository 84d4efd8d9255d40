"""The command line: the only place that prints, shows progress, or exits.

    minimistral demo                      a forward pass of a tiny built-in model, shapes printed

Errors a user can cause (MinimistralError) become one line on stderr and exit code 2;
anything else is a bug in minimistral: one line and exit code 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys

from .errors import MinimistralError


def cmd_demo(opts) -> int:
    """Run the paper's example sentence through the tiny built-in model, printing each shape."""
    import numpy as np

    from .demo import tiny_model

    model = tiny_model()
    a = model.args
    text = "The cat sat on the mat and saw the dog go to"
    ids = model.tokenizer.encode(text)
    print(f"model      : tiny random Mistral, {a.n_layers} layers, D={a.dim}, H={a.n_heads}, "
          f"K={a.n_kv_heads}, Hd={a.head_dim}, F={a.hidden_dim}, W={a.sliding_window}, V={a.vocab_size}")
    print(f"prompt     : {text!r}")
    print(f"token ids  : {ids}  [T={len(ids)}]")
    print(f"pieces     : {[model.tokenizer.piece(i) for i in ids]}")
    hidden = model.hidden_states(np.array(ids))
    print(f"embedding  : {hidden[0].shape}  [T, D]   (then one residual stream per block)")
    for i, h in enumerate(hidden[1:-1]):
        print(f"after block {i}: {h.shape}  [T, D]")
    logits = model.forward(np.array(ids))
    print(f"logits     : {logits.shape} {logits.dtype}  [T, V]")
    print(f"next token : {int(logits[-1].argmax())} (random weights: the text is meaningless)")
    return 0


def cmd_figures(opts) -> int:
    """Redraw the paper's figures from the modules' live data into --out (PNG files)."""
    from .figures import write_all

    for path in write_all(opts.out):
        print(path)
    return 0


def add_figures_options(p) -> None:
    p.add_argument("--out", default="figures", metavar="DIR", help="directory for the PNG files (default: figures/)")


COMMANDS = {
    "demo": (cmd_demo, "forward pass of a tiny built-in model on the paper's example sentence"),
    "figures": (cmd_figures, "redraw the paper's figures (masks, reach, GQA, rolling buffer, chunks) as PNGs"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help).\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="minimistral", description="Mistral 7B in pure NumPy.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_options = ADD_OPTIONS.get(name)
        if add_options:
            add_options(p)
    return parser


ADD_OPTIONS: dict = {}   # command name -> function(parser) adding its options
ADD_OPTIONS["figures"] = add_figures_options


def main(argv=None) -> int:
    parser = build_parser()
    try:
        opts = parser.parse_args(argv)
    except SystemExit as e:       # --help, or a bad option already reported in one line
        return e.code if isinstance(e.code, int) else 2
    if opts.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[opts.command][0](opts)
    except MinimistralError as e:
        if opts.debug:
            raise
        print(f"minimistral: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minimistral: interrupted.", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in minimistral, not the user's fault
        if opts.debug:
            raise
        print(f"minimistral: internal error ({type(e).__name__}: {e}); rerun with --debug "
              f"for the traceback and please report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
