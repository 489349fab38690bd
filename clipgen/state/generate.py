"""The Generate page: stream an upload to disk, pick options, start a job; your uploads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path

import reflex as rx

from clipgen import routes
from clipgen.config import get_settings
from clipgen.pipeline import options as opts
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.errors import InvalidInput, NotAuthenticated, ServiceError
from clipgen.services.media import jobs, videos
from clipgen.state.forms import number
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, run_as, shows_refusals

UPLOAD_ID = "source-video"
ACCEPTED_EXTENSIONS = sorted(videos.ACCEPTED_EXTENSIONS)
# The clip choices `clip_options` offers (a claim's generation has no topic prompt).
CLIP_OPTION_NAMES = frozenset(
    {"clip_count", "length", "custom_min", "custom_max", "aspect", "captions", "layout"}
)
_OPTION_NAMES = CLIP_OPTION_NAMES | {"prompt"}


def _upload_folder() -> Path:
    folder = get_settings().data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 1024:,.0f} KB"


def video_row(view: videos.VideoView) -> dict:
    """What the uploads list shows of a video: plain values only."""
    minutes, seconds = divmod(int(view.duration_s or 0), 60)
    return {
        "id": view.id,
        "name": view.original_filename,
        "summary": f"{minutes}:{seconds:02d} · {view.width}x{view.height} · "
        f"{_size_text(view.size_bytes)}",
    }


def progress_percent(progress: object) -> int | None:
    """The percent an `on_upload_progress` report says, or None for a malformed one."""
    fraction = progress.get("progress", 0) if isinstance(progress, dict) else 0
    try:
        return max(0, min(100, int(float(fraction or 0) * 100)))
    except (TypeError, ValueError, OverflowError):
        return None


async def receive_video(state, chunks, *, upload_id: str, on_done):
    """The body of a page's upload handler (a background event): streams the upload through
    `stream_upload`, keeping the state's `uploading`, `upload_error` and `upload_percent`
    up to date, and yields the events to send. A refusal shows its message and cancels the
    upload; a lost session goes to sign-in, back to the page after (an upload's event
    keeps the page's address). Once the video is stored,
    `on_done(video)` runs inside the state's lock and returns the events to send next."""
    async with state:
        token = state.session_token
        state.uploading = True
        state.upload_error = ""
        state.upload_percent = 0
    try:
        video = await stream_upload(token, chunks)
    except NotAuthenticated:
        async with state:
            state.uploading = False
            to_sign_in = state._to_login()
        yield to_sign_in
        return
    except ServiceError as error:
        async with state:
            state.uploading = False
            state.upload_error = str(error)
        yield rx.cancel_upload(upload_id)
        return
    except BaseException:
        async with state:
            state.uploading = False
        raise
    async with state:
        state.uploading = False
        state.upload_percent = 100
        events = on_done(video)
    for event in events or ():
        if event is not None:
            yield event


def options_from(state, prompt: str = "") -> GenerateOptions:
    """The clip choices of a page's controls (see `components.clip_options`), read as
    untrusted text; the pipeline's `check_options` checks their limits."""
    try:
        count = int(state.clip_count)
    except (TypeError, ValueError):
        raise InvalidInput("Enter whole numbers for the clip count and lengths.") from None
    if state.length == opts.CUSTOM_LENGTH:
        low = number(state.custom_min, "the shortest clip length in seconds", "20")
        high = number(state.custom_max, "the longest clip length in seconds", "45")
    else:
        default = opts.LENGTH_PRESETS[opts.DEFAULT_LENGTH]
        low, high, _label = opts.LENGTH_PRESETS.get(state.length, default)
    return GenerateOptions(
        clips=count,
        min_seconds=low,
        max_seconds=high,
        aspect=state.aspect,
        captions=state.captions,
        layout=state.layout,
        prompt=str(prompt or "").strip(),
    )


async def stream_upload(token: str, chunks: AsyncIterator) -> videos.VideoView:
    """Write an upload's chunks to a part file and have the video service accept it.

    Who is uploading is checked before anything is written, and the upload is
    recorded (`begin_upload`: role, extension, uploads in flight, quota) before
    its first byte is; it may never write more than its ticket allows. Whatever
    stops it, a refused upload leaves nothing: no part file, no row, no object.
    """
    await asyncio.to_thread(run_as, token, videos.storage_usage)
    temp: Path | None = None
    ticket: videos.UploadTicket | None = None
    try:
        out = None
        try:
            async for chunk in chunks:
                if ticket is None:
                    ticket = await asyncio.to_thread(
                        run_as, token, videos.begin_upload, original_filename=chunk.filename
                    )
                    temp = _upload_folder() / f"{ticket.video_id}-{uuid.uuid4().hex}.part"
                    out = temp.open("wb")
                if chunk.offset + len(chunk.data) > ticket.max_bytes:
                    raise ServiceError(ticket.too_big_message)
                out.seek(chunk.offset)
                out.write(chunk.data)
        finally:
            if out is not None:
                out.close()
        if ticket is None:
            raise ServiceError("Choose a video file to upload.")
        return await asyncio.to_thread(
            run_as, token, videos.accept_upload, video_id=ticket.video_id, temp_path=temp
        )
    except BaseException:
        if temp is not None:
            with suppress(OSError):
                temp.unlink(missing_ok=True)
        if ticket is not None:
            with suppress(ServiceError):
                await asyncio.to_thread(
                    run_as, token, videos.abandon_upload, video_id=ticket.video_id
                )
        raise


class GenerateState(SessionState):
    uploading: bool = False
    upload_percent: int = 0
    upload_error: str = ""
    video_id: int = 0
    video_name: str = ""
    video_summary: str = ""

    clip_count: str = str(opts.DEFAULT_CLIPS)
    length: str = opts.DEFAULT_LENGTH
    custom_min: str = "20"
    custom_max: str = "45"
    aspect: str = opts.DEFAULT_ASPECT
    captions: str = opts.DEFAULT_CAPTIONS
    layout: str = opts.DEFAULT_LAYOUT
    prompt: str = ""
    start_error: str = ""
    starting: bool = False

    my_videos: list[dict] = []
    storage_text: str = ""
    videos_error: str = ""

    @rx.var
    def max_upload_mb(self) -> int:
        return get_settings().max_upload_mb

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.upload_error = ""
        self.start_error = ""
        self.uploading = False
        self.upload_percent = 0
        return self._load_videos()

    @shows_refusals("videos_error")
    def _load_videos(self):
        self.videos_error = ""
        listed = self._call_service(videos.list_videos, limit=50)
        usage = self._call_service(videos.storage_usage)
        self.my_videos = [video_row(view) for view in listed]
        self.storage_text = (
            f"{_size_text(usage.used_bytes)} of {_size_text(usage.quota_bytes)} used"
        )

    @rx.event
    def set_option(self, name: str, value: str):
        """One setter for the option controls; unknown names are ignored."""
        if name in _OPTION_NAMES and isinstance(value, str):
            setattr(self, name, value[: opts.MAX_PROMPT_LENGTH])

    @rx.event
    def upload_progress(self, progress: dict):
        percent = progress_percent(progress)
        if percent is not None:
            self.upload_percent = percent

    @rx.event
    def forget_video(self):
        self.video_id = 0
        self.video_name = ""
        self.video_summary = ""
        self.upload_percent = 0

    @rx.event
    def use_video(self, video_id: int):
        """Pick one of the user's uploaded videos to make clips from."""
        chosen = next((row for row in self.my_videos if row["id"] == video_id), None)
        if chosen is None:
            return
        self.video_id = chosen["id"]
        self.video_name = chosen["name"]
        self.video_summary = chosen["summary"]

    @rx.event
    @shows_refusals("videos_error")
    @limited("write", "videos_error")
    def delete_video(self, video_id: int):
        self._call_service(videos.delete_video, video_id=video_id)
        if self.video_id == video_id:
            self.forget_video()
        reloaded = self._load_videos()
        return [rx.toast.success("Video deleted."), *([reloaded] if reloaded else [])]

    @rx.event(background=True)
    @limited("write")
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """Stream the upload to disk through `stream_upload`, then show the video."""
        async with self:
            self.video_id = 0
        async for event in receive_video(self, chunks, upload_id=UPLOAD_ID, on_done=self._uploaded):
            yield event

    def _uploaded(self, video: videos.VideoView) -> list:
        row = video_row(video)
        self.video_id, self.video_name = row["id"], row["name"]
        self.video_summary = row["summary"]
        return [self._load_videos()]

    def _options(self) -> GenerateOptions:
        return options_from(self, prompt=self.prompt)

    @rx.event
    @shows_refusals("start_error")
    @limited("generate", "start_error")
    def start(self):
        self.start_error = ""
        if not self.video_id:
            raise ServiceError("Upload a video first.")
        job = self._call_service(
            jobs.start_generation, video_id=self.video_id, options=self._options()
        )
        self.forget_video()
        return rx.redirect(routes.job(job.id))
