"""The one exception users see: a one-line message that names the problem and the fix."""


class ShiftnasError(Exception):
    """Bad input or a missing resource, reported to the user as one line (CLI exit code 2).

    Raise it at the edge where the input is understood (config, file, genome), never let a
    traceback from deep inside torch reach the user for something they can fix.
    """
