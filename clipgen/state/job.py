"""The job page: live progress, cancel and retry, then the ranked clips and trimming."""

from __future__ import annotations

import asyncio
import time

import reflex as rx
from reflex.config import get_config

from clipgen import routes
from clipgen.services.errors import InvalidInput, NotAuthenticated, ServiceError
from clipgen.services.media import clips, jobs
from clipgen.state.forms import field, number
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

POLL_SECONDS = 1.0
URL_LIFETIME_S = 3600
# A job's page is `<JOBS>/<job id>` (`routes.job`).
JOBS = "/jobs"
# Pages with signed links check this often and re-sign links that expire within the margin,
# so a page left open for hours still plays and downloads.
RENEW_CHECK_MS = 5 * 60 * 1000
RENEW_MARGIN_S = 15 * 60
STAGE_LABELS = {
    "": "Waiting for a worker",
    "probe": "Checking the video",
    "audio": "Extracting the audio",
    "transcribe": "Transcribing",
    "signals": "Listening for the best moments",
    "candidates": "Finding clean cuts",
    "rank": "Ranking moments",
    "plan": "Placing the cuts",
    "render": "Rendering clips",
    "store": "Saving clips",
    "done": "Done",
}


def absolute_url(url: str) -> str:
    """Local file URLs are paths on the backend; the browser may be on another port."""
    return get_config().api_url.rstrip("/") + url if url.startswith("/") else url


URL_KEYS = ("video_url", "download_url", "srt_url", "vtt_url", "thumbnail_url")


def links_expiry() -> float:
    """When links signed now for `URL_LIFETIME_S` expire (a UNIX time)."""
    return time.time() + URL_LIFETIME_S


def links_need_renewal(expires_at: float) -> bool:
    """Whether links that expire at `expires_at` must be signed again now."""
    return time.time() >= expires_at - RENEW_MARGIN_S


def signed_urls(files) -> dict[str, str]:
    """A clip's file links, as the browser must request them."""
    return {
        "video_url": absolute_url(files.video_url),
        "download_url": absolute_url(files.video_download_url),
        "srt_url": absolute_url(files.srt_url),
        "vtt_url": absolute_url(files.vtt_url),
        "thumbnail_url": absolute_url(files.thumbnail_url),
    }


def clip_card_data(view, urls: dict[str, str]) -> dict:
    """What a clip card shows: plain values only."""
    return {
        "id": view.id,
        "rank": view.rank,
        "title": view.title,
        "hook": view.hook,
        "reason": view.reason,
        "score": view.score,
        "transcript": view.transcript,
        "start": round(view.start_s, 2),
        "end": round(view.end_s, 2),
        "span": f"{view.start_s:.1f}s – {view.end_s:.1f}s",
        "duration": f"{view.duration_s:.0f} s",
        "status": view.status,
        "version": view.version,
        **urls,
    }


def timing_note(timings: dict, planned: int) -> str:
    """How long the user waited for the first clip and for all of them."""
    first, total = timings.get("first_clip"), timings.get("total")
    if first is None:
        return ""
    note = f"First clip in {first:.0f} s"
    return note if total is None else f"{note} · all {planned} in {total:.0f} s"


class JobState(SessionState):
    current_job_id: int = 0
    status: str = ""
    stage_label: str = ""
    percent: int = 0
    error: str = ""
    stuck: bool = False
    clips_planned: int = 0
    # "First clip in 31 s · all 5 in 95 s", once the job has stored its clips.
    timing_note: str = ""
    not_found: bool = False
    # The marketplace claim these clips are for ("" for a self-service job).
    claim_link: str = ""
    clip_cards: list[dict] = []
    links_expire_at: float = 0.0
    action_error: str = ""
    watching: bool = False

    trim_clip_id: int = 0
    trim_start: str = ""
    trim_end: str = ""
    trim_text: str = ""
    trim_error: str = ""

    @rx.var
    def is_active(self) -> bool:
        return self.status in ("queued", "running")

    @rx.var
    def clips_ready(self) -> int:
        return len(self.clip_cards)

    @rx.var
    def has_rendering_clips(self) -> bool:
        return any(card["status"] == "rendering" for card in self.clip_cards)

    def _refresh(self) -> None:
        """Load the job and its clips for the signed-in user (ownership checked by services)."""
        job = self._call_service(jobs.get_job, job_id=self.current_job_id)
        self.status = job.status
        self.stage_label = STAGE_LABELS.get(job.stage, job.stage.title())
        self.percent = job.percent
        self.error = job.error
        self.stuck = job.stuck
        self.clips_planned = job.clips_planned
        self.timing_note = timing_note(job.timings, job.clips_planned)
        self.claim_link = routes.claim(job.market_job_id) if job.market_job_id else ""
        # Clips appear one by one as workers store them, best first, while the job runs;
        # a job stopped early keeps those it made.
        # Links already on the page stay while their version does and they are far from
        # expiring: signing new ones on every poll would reload each player once a second.
        renew = links_need_renewal(self.links_expire_at)
        if renew:
            self.links_expire_at = links_expiry()
        shown = {} if renew else {(card["id"], card["version"]): card for card in self.clip_cards}
        cards = []
        for view in self._call_service(clips.list_job_clips, job_id=self.current_job_id):
            card = shown.get((view.id, view.version))
            urls = (
                {key: card[key] for key in URL_KEYS}
                if card
                else signed_urls(
                    self._call_service(clips.clip_files, clip_id=view.id, expires_s=URL_LIFETIME_S)
                )
            )
            cards.append(clip_card_data(view, urls))
        self.clip_cards = cards

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.current_job_id = self._route_id(JOBS)
        self.not_found = False
        self.action_error = ""
        self.trim_clip_id = 0
        self.clip_cards = []
        self.links_expire_at = 0.0
        try:
            self._refresh()
        except NotAuthenticated:
            return self._to_login()
        except ServiceError:
            self.not_found = True
            return
        return JobState.watch

    @rx.event(background=True)
    async def watch(self):
        """Refresh while the job runs or a clip re-renders; stops when the tab leaves."""
        async with self:
            if self.watching:
                return
            self.watching = True
            job_id = self.current_job_id
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    if self.current_job_id != job_id or self.router.url.path.rstrip("/") != (
                        routes.job(job_id)
                    ):
                        return
                    was_active = self.is_active or self.has_rendering_clips
                    try:
                        await asyncio.to_thread(self._refresh)
                    except ServiceError:
                        return
                    if not was_active and not (self.is_active or self.has_rendering_clips):
                        return
        finally:
            async with self:
                self.watching = False

    @rx.event
    @limited("expensive_read")
    def renew_links(self, _now: str = ""):
        """Re-sign the clips' links before they expire on a page left open."""
        if self.clip_cards and links_need_renewal(self.links_expire_at):
            try:
                self._refresh()
            except ServiceError:
                return

    @rx.event
    @shows_refusals("action_error", to_sign_in=False)
    @limited("write", "action_error")
    def cancel(self):
        self._call_service(jobs.cancel_job, job_id=self.current_job_id)
        self._refresh()

    @rx.event
    @shows_refusals("action_error", to_sign_in=False)
    @limited("generate", "action_error")
    def retry(self):
        self.action_error = ""
        self._call_service(jobs.retry_job, job_id=self.current_job_id)
        self._refresh()
        return JobState.watch

    @rx.event
    @shows_refusals("action_error", to_sign_in=False)
    @limited("write", "action_error")
    def delete_job(self):
        self._call_service(jobs.delete_job, job_id=self.current_job_id)
        return [rx.redirect(routes.GENERATE), rx.toast.success("Job deleted.")]

    @rx.event
    def open_trim(self, clip_id: int):
        card = next((c for c in self.clip_cards if c["id"] == clip_id), None)
        if card is None:
            return
        self.trim_clip_id = clip_id
        self.trim_start = f"{card['start']:.2f}"
        self.trim_end = f"{card['end']:.2f}"
        self.trim_text = card["transcript"]
        self.trim_error = ""

    @rx.event
    def close_trim(self):
        self.trim_clip_id = 0

    @rx.event
    @limited("write")
    def submit_trim(self, form_data: dict):
        try:
            start = number(field(form_data, "start"), "the start in seconds")
            end = number(field(form_data, "end"), "the end in seconds")
        except InvalidInput as error:
            self.trim_error = str(error)
            return
        captions = field(form_data, "captions")
        # Captions not sent as text (no box in the form) keep the clip's words; a box sent
        # empty is an edit.
        sent = isinstance(form_data, dict) and isinstance(form_data.get("captions"), str)
        edited = sent and captions.strip() != self.trim_text.strip()
        try:
            self._call_service(
                clips.request_trim,
                clip_id=self.trim_clip_id,
                start_s=start,
                end_s=end,
                transcript_text=captions[:5000] if edited else None,
            )
        except ServiceError as error:
            self.trim_error = str(error)
            return
        self.trim_clip_id = 0
        self._refresh()
        return [
            rx.toast.info("Re-rendering the clip; the old version stays until it is ready."),
            JobState.watch,
        ]
