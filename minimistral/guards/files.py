"""Opening the user's files: say what a path really is, never hang, never read more than expected.

Every file minimistral reads from a checkpoint directory is opened here:

    open_input(path)        a regular file, opened without blocking (a FIFO where a file should
                            be would otherwise wait forever for a writer), else one sentence:
                            "... does not exist", "... is a directory", "... is not a regular
                            file (a FIFO?)", "cannot read ...: Permission denied"
    read_small(path, cap)   its bytes, refused if bigger than cap (a config.json is kilobytes)
    kind(path)              'missing', 'dir', 'file' or what else it is, for messages

and every directory it writes into (training runs) is made here:

    output_dir(path)        the directory, created with its parents if missing, as an absolute
                            path; else one sentence: "... is a file, not a directory", "... holds
                            a NUL byte", "cannot create ...: Permission denied"

Names in messages go through textio.show, so an odd file name cannot disturb the terminal.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import MinimistralError
from .textio import show

MAX_JSON_BYTES = 64 * 2**20      # config.json, params.json, index.json: kilobytes in every release


def kind(path) -> str:
    """'missing', 'dir', 'file', 'fifo', 'socket', 'device' or 'other' (symlinks followed)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "missing"
    except OSError as e:
        raise MinimistralError(f"cannot access {show(path)}: {e.strerror}.") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


def not_a_file(path, what: str = "") -> str:
    """The sentence for a path that should be a regular file and is not (or is missing)."""
    k = kind(path)
    name = f"{what + ' ' if what else ''}{show(path)}"
    return {"missing": f"{name} does not exist",
            "dir": f"{name} is a directory, not a file",
            "fifo": f"{name} is not a regular file (a FIFO?)",
            "socket": f"{name} is not a regular file (a socket)",
            "device": f"{name} is not a regular file (a device)"}.get(k, f"{name} is not a regular file")


def open_input(path, what: str = ""):
    """Open a regular file for reading in binary; MinimistralError for anything else (no hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise MinimistralError(not_a_file(path, what) + ".") from None
    except IsADirectoryError:
        raise MinimistralError(not_a_file(path, what) + ".") from None
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.EOPNOTSUPP):      # a socket, or a FIFO we may not open
            raise MinimistralError(not_a_file(path, what) + ".") from None
        raise MinimistralError(f"cannot read {what + ' ' if what else ''}{show(path)}: {e.strerror}.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MinimistralError(not_a_file(path, what) + ".")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_small(path, cap: int = MAX_JSON_BYTES, what: str = "") -> bytes:
    """The whole of a small regular file; refused, unread, if it is bigger than cap bytes."""
    with open_input(path, what) as f:
        size = os.fstat(f.fileno()).st_size
        if size > cap:
            raise MinimistralError(f"{show(path)} is {size:,} bytes, far more than a "
                                   f"'{show(Path(path).name)}' should hold ({cap:,} at most); is it the right file?")
        try:
            data = f.read(min(size, cap) + 1)        # st_size bounds the buffer read() allocates
        except OSError as e:
            raise MinimistralError(f"cannot read {show(path)}: {e.strerror}.") from None
    if len(data) > cap:                          # grew while we read it
        raise MinimistralError(f"{show(path)} is more than {cap:,} bytes; is it the right file?")
    return data



def output_dir(path, what: str = "the output directory") -> Path:
    """A directory to write into, made if missing (see module doc), as an absolute Path.

    The absolute path is what messages show afterwards, so "wrote runs/mine" cannot be read
    against another working directory.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise MinimistralError(f"{what} must be a directory name (a str or a path), got {type(path).__name__}.")
    name = os.fsdecode(path)
    if not name or "\0" in name:
        raise MinimistralError(f"{what} {show(repr(name))} cannot be a directory name"
                               f"{' (it holds a NUL byte)' if name else ' (it is empty)'}; pass one, e.g. 'runs/mine'.")
    k = kind(name)
    if k not in ("missing", "dir"):
        article = "a file" if k == "file" else f"a {k}"
        raise MinimistralError(f"{what} {show(name)} is {article}, not a directory; pass a directory "
                               f"(it is created if missing).")
    try:
        os.makedirs(name, exist_ok=True)
    except OSError as e:
        raise MinimistralError(f"cannot create {what} {show(name)}: {e.strerror or e}.") from None
    return Path(os.path.abspath(name))
