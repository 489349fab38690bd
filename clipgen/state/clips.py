"""My clips: every clip the user made, newest first, searchable, deletable."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.services.media import clips
from clipgen.state.forms import field, row_id
from clipgen.state.job import (
    URL_LIFETIME_S,
    clip_card_data,
    links_expiry,
    links_need_renewal,
    signed_urls,
)
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

PER_PAGE = 12


class MyClipsState(SessionState):
    query: str = ""
    page: int = 1
    total: int = 0
    cards: list[dict] = []
    links_expire_at: float = 0.0
    error: str = ""

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    def _load(self) -> None:
        result = self._call_service(
            clips.list_my_clips, query=self.query, page=self.page, per_page=PER_PAGE
        )
        self.page, self.total = result.page, result.total
        self.links_expire_at = links_expiry()
        self.cards = [
            {
                **clip_card_data(
                    view,
                    signed_urls(
                        self._call_service(
                            clips.clip_files, clip_id=view.id, expires_s=URL_LIFETIME_S
                        )
                    ),
                ),
                "job_href": routes.job(view.job_id),
            }
            for view in result.items
        ]

    @shows_refusals("error")
    def _reload(self):
        self.error = ""
        self._load()

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.page = 1
        return self._reload()

    @rx.event
    @limited("expensive_read")
    def renew_links(self, _now: str = ""):
        """Re-sign the clips' links before they expire on a page left open."""
        if self.cards and links_need_renewal(self.links_expire_at):
            return self._reload()

    @rx.event
    @limited("expensive_read")
    def search(self, form_data: dict):
        self.query = field(form_data, "query")[:200]
        self.page = 1
        return self._reload()

    @rx.event
    @limited("expensive_read")
    def go_to_page(self, page: int):
        try:
            self.page = max(1, min(int(page), self.page_count))
        except (TypeError, ValueError, OverflowError):
            return
        return self._reload()

    @rx.event
    @shows_refusals("error", to_sign_in=False)
    @limited("write", "error")
    def delete(self, clip_id: int):
        self._call_service(clips.delete_clip, clip_id=row_id(clip_id))
        reloaded = self._reload()
        return [rx.toast.success("Clip deleted."), *([reloaded] if reloaded else [])]
