"""Sub-commands added by other modules (verify, promote, diff) register here."""

from __future__ import annotations

import argparse


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Attach the optional sub-commands; each lives in its own module."""
    return None
