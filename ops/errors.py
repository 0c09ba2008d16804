"""Exceptions the command line maps to exit code 2 (kept import-light)."""


class UsageError(Exception):
    """Bad stack name, unreadable stack file or invalid settings: exit code 2."""
