"""The Generate page: stream an upload to disk, pick options, start a job."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import reflex as rx

from clipgen.config import get_settings
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.errors import NotAuthenticated, ServiceError
from clipgen.services.media import jobs, videos
from clipgen.state.session import SessionState, run_as

UPLOAD_ID = "source-video"
LENGTH_PRESETS = {"15-30": (15, 30), "30-60": (30, 60), "60-90": (60, 90)}


def _upload_folder() -> Path:
    folder = get_settings().data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class GenerateState(SessionState):
    uploading: bool = False
    upload_percent: int = 0
    upload_error: str = ""
    video_id: int = 0
    video_name: str = ""
    video_summary: str = ""

    clip_count: str = "5"
    length: str = "30-60"
    custom_min: str = "20"
    custom_max: str = "45"
    aspect: str = "9:16"
    captions: str = "animated"
    prompt: str = ""
    start_error: str = ""
    starting: bool = False

    @rx.var
    def max_upload_mb(self) -> int:
        return get_settings().max_upload_mb

    @rx.event
    def open_page(self):
        self.upload_error = ""
        self.start_error = ""
        self.uploading = False
        self.upload_percent = 0

    @rx.event
    def set_option(self, name: str, value: str):
        """One setter for the option controls; unknown names are ignored."""
        if name in {
            "clip_count",
            "length",
            "custom_min",
            "custom_max",
            "aspect",
            "captions",
            "prompt",
        } and isinstance(value, str):
            setattr(self, name, value[:500])

    @rx.event
    def upload_progress(self, progress: dict):
        fraction = progress.get("progress", 0) if isinstance(progress, dict) else 0
        self.upload_percent = max(0, min(100, int(float(fraction or 0) * 100)))

    @rx.event
    def forget_video(self):
        self.video_id = 0
        self.video_name = ""
        self.video_summary = ""
        self.upload_percent = 0

    @rx.event(background=True)
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """Write the upload to disk chunk by chunk, then have the service accept it."""
        async with self:
            token = self.session_token
            self.uploading = True
            self.upload_error = ""
            self.video_id = 0
        limit = get_settings().max_upload_bytes
        temp = _upload_folder() / f"{uuid.uuid4().hex}.part"
        name, written, too_big = "", 0, False
        try:
            with temp.open("wb") as out:
                async for chunk in chunks:
                    name = name or chunk.filename
                    if too_big:
                        continue  # drain what is in flight; the browser was told to stop
                    if chunk.offset + len(chunk.data) > limit:
                        too_big = True
                        yield rx.cancel_upload(UPLOAD_ID)
                        continue
                    out.seek(chunk.offset)
                    out.write(chunk.data)
                    written = max(written, chunk.offset + len(chunk.data))
            if too_big:
                raise ServiceError(
                    f"That file is larger than the {get_settings().max_upload_mb} MB limit."
                )
            if not name:
                raise ServiceError("Choose a video file to upload.")
            settings = get_settings()
            video = await asyncio.to_thread(
                run_as,
                token,
                videos.accept_upload,
                temp_path=temp,
                original_filename=name,
                max_bytes=settings.max_upload_bytes,
                max_duration_s=settings.max_video_minutes * 60,
            )
        except NotAuthenticated:
            temp.unlink(missing_ok=True)
            async with self:
                self.uploading = False
            yield rx.redirect("/login")
            return
        except ServiceError as error:
            temp.unlink(missing_ok=True)
            async with self:
                self.uploading = False
                self.upload_error = str(error)
            return
        except BaseException:
            temp.unlink(missing_ok=True)
            async with self:
                self.uploading = False
            raise
        async with self:
            self.uploading = False
            self.upload_percent = 100
            self.video_id = video.id
            self.video_name = video.original_filename
            minutes, seconds = divmod(int(video.duration_s or 0), 60)
            self.video_summary = f"{minutes}:{seconds:02d} · {video.width}x{video.height}"

    def _options(self) -> GenerateOptions:
        try:
            count = int(self.clip_count)
            if self.length == "custom":
                low, high = float(self.custom_min), float(self.custom_max)
            else:
                low, high = LENGTH_PRESETS.get(self.length, (30, 60))
        except ValueError:
            raise ServiceError("Enter whole numbers for the clip count and lengths.") from None
        return GenerateOptions(
            clips=count,
            min_seconds=low,
            max_seconds=high,
            aspect=self.aspect,
            captions=self.captions,
            prompt=self.prompt.strip(),
        )

    @rx.event
    def start(self):
        from workers.generation import process_job

        self.start_error = ""
        try:
            if not self.video_id:
                raise ServiceError("Upload a video first.")
            job = self.call_service(
                jobs.start_generation, video_id=self.video_id, options=self._options()
            )
        except NotAuthenticated:
            return rx.redirect("/login")
        except ServiceError as error:
            self.start_error = str(error)
            return
        process_job.send(job.id)
        self.forget_video()
        return rx.redirect(f"/jobs/{job.id}")
