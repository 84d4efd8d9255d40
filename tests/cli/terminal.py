"""A chat on a pseudo-terminal, as a user at a terminal runs it (tests of the chat command)."""

import os
import sys


def chat_in_a_terminal(args: list[str], line: bytes, timeout: float = 120) -> tuple[int, bytes]:
    """Run `python -m minimistral chat *args` on a pty, answer the first '> ' with `line`, wait for
    the turn summary, end the chat with an empty line; returns (exit code, everything shown)."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:   # child: the CLI on the terminal
        os.execv(sys.executable, [sys.executable, "-m", "minimistral", "chat", *args])
    seen = b""

    def read_until(marker):
        nonlocal seen
        while marker not in seen:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise AssertionError(f"timed out waiting for {marker!r}; got {seen!r}")
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    try:
        read_until(b"> ")
        os.write(fd, line + b"\n")
        read_until(b"[turn:")
        read_until(b"> ")
        os.write(fd, b"\n")                      # an empty line ends the chat
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), seen
