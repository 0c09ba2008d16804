"""The bounds' vocabulary (deadline, byte caps, the stage a bound stopped) is the live-state engine's
(livestate/bounds.py), shared by every client the commands use; re-exported for ops.verify."""

from livestate.bounds import (
    MAX_BODY_BYTES,
    MAX_DECODED_BYTES,
    MAX_WEBSOCKET_MESSAGE,
    MAX_WEBSOCKET_QUEUE,
    BoundExceeded,
    Deadline,
    Stage,
)

__all__ = ["MAX_BODY_BYTES", "MAX_DECODED_BYTES", "MAX_WEBSOCKET_MESSAGE", "MAX_WEBSOCKET_QUEUE", "BoundExceeded", "Deadline", "Stage"]
