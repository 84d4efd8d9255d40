"""The command line: the only place that prints or exits (train() alone draws its progress line).

    minimistral demo                      the paper's sentence through the shipped trained model
    minimistral figures [--out DIR]       redraw every figure (default: figures/)
    minimistral info [--model DIR]        what a checkpoint is: layout, config, size, RAM, tokenizer
    minimistral generate [--model DIR] --prompt TEXT    stream a continuation (default: the shipped model)
    minimistral chat [--model DIR] [--system TEXT | --guardrail]   multi-turn, rolling cache kept
                                          (default: the shipped instruct model, else the story model)
    minimistral train --out DIR [--steps N --seed S ...]   train a tiny Mistral on generated stories
    minimistral finetune [--base DIR] --out DIR [--steps N ...]   instruction-tune it, write an adapter
    minimistral quantize --type q8_0 SRC OUT.gguf   write a checkpoint as a llama.cpp GGUF file

Errors a user can cause (MinimistralError) become one line on stderr and exit code 2;
anything else is a bug in minimistral: one line and exit code 1 (``--debug`` shows the traceback).
``main`` is the one place that meets the world outside (see ``run``): a reader that closes the
pipe (``| head -1``) ends the command quietly with 141 (128 + SIGPIPE, what a shell reports for
``yes | head -1``); a full disk or a dead terminal is one sentence and exit 2; warnings wait until
the command has produced output, so an error is never preceded by them; every message is
printed through textio.show, so no file or tensor name can put a control character on the terminal.

Each command is a module here with ``run(opts)`` and ``add_options(parser)``: demo.py, figures.py,
info.py, generate.py, chat.py (those two share text.py), train.py, finetune.py, quantize.py; output.py holds
the messages.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import warnings

from ..errors import MinimistralError
from ..guards.textio import show
from . import chat, demo, figures, finetune, generate, info, quantize, train
from .output import _warnings, flush_warnings, say, warn

EXIT_PIPE = 128 + getattr(signal, "SIGPIPE", 13)   # 141: the reader closed our stdout pipe
WRITE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}

# command -> (its module: run(opts) and add_options(parser), one line of help)
COMMANDS = {
    "demo": (demo, "the paper's example sentence through the shipped trained model, step by step"),
    "figures": (figures, "redraw every figure (the paper's, the shipped model's, the experiments') as PNGs"),
    "info": (info, "describe a checkpoint (default: the shipped models): layout, config, parameters, size, "
                   "RAM, window, tokenizer"),
    "generate": (generate, "continue a prompt (default: the shipped story model), streaming the text"),
    "chat": (chat, "multi-turn chat with an instruct checkpoint ([INST] template), cache kept across turns "
                   "(default: the shipped instruct model)"),
    "train": (train, "train a tiny Mistral in NumPy on generated stories, write an HF checkpoint"),
    "finetune": (finetune, "instruction-tune a checkpoint in NumPy on generated questions about stories, "
                           "write the changed tensors as an adapter"),
    "quantize": (quantize, "write a checkpoint as a llama.cpp GGUF file (q8_0, q4_0 or f16), read back and checked"),
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
        module = COMMANDS[name][0]
        if hasattr(module, "add_options"):
            module.add_options(p)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    try:
        opts = parser.parse_args(argv)
    except SystemExit as e:       # --help, or a bad option already reported in one line
        return e.code if isinstance(e.code, int) else 2
    if opts.command is None:
        parser.print_help()
        return 2
    return run(COMMANDS[opts.command][0].run, opts)


def run(command, opts) -> int:
    """Run one command; the one place that turns what went wrong into a line and an exit code."""
    _warnings.clear()
    if sys.stderr is None:                        # 2>&- : nowhere to write messages
        sys.stderr = open(os.devnull, "w")
    try:
        if sys.stdout is None:
            raise MinimistralError("standard output is closed; nowhere to write (redirect it to a "
                                   "file or /dev/null instead).")
        if getattr(opts, "model", None) == "":
            raise MinimistralError("--model is empty; pass the checkpoint directory.")
        with warnings.catch_warnings():
            # Python warnings (a library's) join ours: one line each, held like the others.
            warnings.showwarning = lambda message, category, *rest, **kw: warn(
                f"{category.__name__}: {message}")
            code = command(opts)
        sys.stdout.flush()                        # a full disk shows here for buffered output
        flush_warnings()
        return code
    except MinimistralError as e:
        if opts.debug:
            raise
        say(str(e))
        return 2
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, as cat or yes do, and keep Python from
        # complaining when it flushes stdout at exit.
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt as e:
        try:       # train() says which checkpoint survives (training.train.TrainingInterrupted)
            print(f"minimistral: interrupted{': ' + show(e) if str(e) else ''}.", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return 130
    except OSError as e:
        if e.errno in WRITE_ERRNOS:
            if opts.debug:
                raise
            _silence_stdout()
            where = show(e.filename) if e.filename else "the standard output"
            say(f"cannot write to {where}: {e.strerror or os.strerror(e.errno)}.")
            return 2
        return _internal(e, opts)
    except Exception as e:  # a bug in minimistral, not the user's fault
        return _internal(e, opts)


def _internal(e: Exception, opts) -> int:
    if opts.debug:
        raise e
    say(f"internal error ({type(e).__name__}: {e}); rerun with --debug "
        f"for the traceback and please report it.")
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):     # not a real file (a test's capture)
        pass


if __name__ == "__main__":
    sys.exit(main())
