"""Errors the pipeline raises; their message is safe to show to the user.

`str(error)` is a plain sentence in the user's words: never a server path, an
exception's text or ffmpeg's output. What an operator needs to find the cause
(ffmpeg's stderr, the file, the underlying exception) goes in `error.detail`,
which is logged and kept for the audit log but never shown to the user.
"""

from __future__ import annotations

from typing import Any


class PipelineError(Exception):
    """A stage could not go on; `str(error)` says why in the user's words.

    `detail` holds the technical cause for logs and audits ("" when there is none).
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail

    @property
    def message(self) -> str:
        """The sentence shown to the user (the same as `str(error)`)."""
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep `detail` (a keyword argument) when the error is pickled between processes.
        return (_rebuild, (type(self), self.message, self.detail))


def _rebuild(cls: type[PipelineError], message: str, detail: str) -> PipelineError:
    error = cls.__new__(cls)
    PipelineError.__init__(error, message, detail=detail)
    return error


class InvalidVideo(PipelineError):
    """The input is not a video the pipeline can use (empty, truncated, no audio...)."""


class Cancelled(PipelineError):
    """The caller asked the pipeline to stop."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")
