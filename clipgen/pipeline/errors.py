"""Errors the pipeline raises; their message is safe to show to the user."""


class PipelineError(Exception):
    """A stage could not go on; `str(error)` says why in the user's words."""


class InvalidVideo(PipelineError):
    """The input is not a video the pipeline can use (empty, truncated, no audio...)."""


class Cancelled(PipelineError):
    """The caller asked the pipeline to stop."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")
