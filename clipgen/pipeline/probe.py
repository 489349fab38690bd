"""Probe stage: what is in the file, and whether the pipeline can use it."""

from __future__ import annotations

from pathlib import Path

import av

from clipgen.pipeline.errors import InvalidVideo
from clipgen.pipeline.types import MediaInfo

# Containers users upload; anything else is refused even if FFmpeg can read it.
ACCEPTED_FORMATS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm"}
# The largest picture the pipeline renders within its memory target (4K UHD, either way up);
# the probe refuses a larger one from the header, before it decodes a single frame.
MAX_SIDE_PX = 4096
MAX_PIXELS = 4096 * 2160


def _rotation(stream: av.video.stream.VideoStream) -> int:
    try:
        for frame in stream.container.decode(stream):
            return int(round(frame.rotation or 0)) % 360
    except av.FFmpegError:
        return 0
    return 0


def _decodes_near(container: av.container.InputContainer, stream, at_seconds: float) -> bool:
    """Whether a video frame can be decoded at or after `at_seconds`."""
    try:
        container.seek(
            int(max(0.0, at_seconds) / stream.time_base),
            stream=stream,
            backward=True,
            any_frame=False,
        )
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= at_seconds - 2.0:
                return True
    except av.FFmpegError:
        return False
    return False


def check_picture_size(width: int, height: int) -> None:
    """Refuse a picture larger than the pipeline can render (see `MAX_PIXELS`)."""
    if max(width, height) > MAX_SIDE_PX or width * height > MAX_PIXELS:
        raise InvalidVideo(
            f"The video is {width}x{height} pixels; ClipGen takes videos up to 4096x2160 "
            "(4K). Export it at 4K or smaller and upload it again.",
            detail=f"picture {width}x{height} above {MAX_SIDE_PX} px a side or {MAX_PIXELS} px",
        )


def probe(path: str | Path, *, max_duration_s: float | None = None) -> MediaInfo:
    """Read duration, streams, frame rate, size and rotation; refuse unusable files."""
    file = Path(path)
    if not file.is_file():
        raise InvalidVideo("The video file could not be found.", detail=f"no file at {file}")
    size = file.stat().st_size
    if size == 0:
        raise InvalidVideo("The file is empty (0 bytes).")
    try:
        # Opening decodes a first frame to fill in stream details: bound it, so that a
        # huge picture is read from the header only and refused below.
        container = av.open(
            str(file), metadata_errors="ignore", options={"max_pixels": str(MAX_PIXELS)}
        )
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise InvalidVideo(
            "This file is not a video ClipGen can read. Upload an MP4, MOV, MKV or WebM file; "
            "if it is one, it may be truncated or damaged.",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    with container:
        formats = set(container.format.name.split(","))
        if not formats & ACCEPTED_FORMATS:
            raise InvalidVideo(
                f"This is a {container.format.long_name or container.format.name} file, "
                "not a video. Upload an MP4, MOV, MKV or WebM file."
            )
        video = next(iter(container.streams.video), None)
        if video is None:
            raise InvalidVideo("The file has no video track.")
        audio = next(iter(container.streams.audio), None)
        if audio is None:
            raise InvalidVideo(
                "The video has no audio track. ClipGen finds moments from what is said, "
                "so it needs a video with sound."
            )
        if container.duration:
            duration = container.duration / av.time_base
        elif video.duration:
            duration = float(video.duration * video.time_base)
        else:
            duration = 0.0
        if duration <= 0:
            raise InvalidVideo("The video has no length: it may be truncated or damaged.")
        if max_duration_s is not None and duration > max_duration_s:
            raise InvalidVideo(
                f"The video is {duration / 60:.0f} minutes long; the limit is "
                f"{max_duration_s / 60:.0f} minutes."
            )
        fps = float(video.average_rate or video.guessed_rate or 0) or 30.0
        width, height = video.codec_context.width, video.codec_context.height
        if not width or not height:
            raise InvalidVideo("The video track has no picture size: the file may be damaged.")
        check_picture_size(width, height)
        rotation = _rotation(video)
        if not _decodes_near(container, video, max(0.0, duration - 1.5)):
            raise InvalidVideo(
                "The end of the video cannot be read: the file looks truncated or damaged. "
                "Upload it again."
            )
        return MediaInfo(
            path=str(file.resolve()),
            duration=round(duration, 3),
            width=width,
            height=height,
            fps=round(fps, 3),
            rotation=rotation,
            has_audio=True,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name,
            size_bytes=size,
        )
