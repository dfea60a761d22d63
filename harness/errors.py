"""Errors the user can act on: the CLI prints them without a traceback."""


class HilError(Exception):
    """A problem with the user's input or environment, with a message that says what to do."""
