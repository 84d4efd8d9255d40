"""The one error type a user can cause (a bad file, a bad option).

Library code raises :class:`MinimistralError` with one sentence that names the file or option
and says what to do; ``cli.py`` turns it into one line on stderr and exit code 2.
Anything else that escapes is a bug in minimistral (exit code 1).
"""


class MinimistralError(Exception):
    """A problem with the user's input: one clear sentence, no traceback needed."""
