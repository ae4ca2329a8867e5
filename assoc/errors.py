"""Exceptions raised on invalid input, with messages that name the value and the fix.

Every class also derives from the matching built-in exception, so callers that
catch ``ValueError`` or ``FileNotFoundError`` keep working.
"""


class AssocError(Exception):
    """Base class: the command line prints these as one-line errors, without a traceback."""


class ConfigError(AssocError, ValueError):
    """An invalid parameter or configuration value."""


class DataError(AssocError, ValueError):
    """A raw or cached data file that is missing, truncated or malformed."""


class DataNotFoundError(AssocError, FileNotFoundError):
    """A data directory or file that does not exist."""
