"""My clips: every clip the user made, newest first, searchable, deletable."""

from __future__ import annotations

import reflex as rx

from clipgen.services.errors import NotAuthenticated, ServiceError
from clipgen.services.media import clips
from clipgen.state.job import URL_LIFETIME_S, clip_card_data, signed_urls
from clipgen.state.session import SessionState

PER_PAGE = 12


class MyClipsState(SessionState):
    query: str = ""
    page: int = 1
    total: int = 0
    cards: list[dict] = []
    error: str = ""

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    def _load(self) -> None:
        result = self.call_service(
            clips.list_my_clips, query=self.query, page=self.page, per_page=PER_PAGE
        )
        self.page, self.total = result.page, result.total
        self.cards = [
            {
                **clip_card_data(
                    view,
                    signed_urls(
                        self.call_service(
                            clips.clip_files, clip_id=view.id, expires_s=URL_LIFETIME_S
                        )
                    ),
                ),
                "job_href": f"/jobs/{view.job_id}",
            }
            for view in result.items
        ]

    def _reload(self):
        self.error = ""
        try:
            self._load()
        except NotAuthenticated:
            return rx.redirect("/login")
        except ServiceError as error:
            self.error = str(error)

    @rx.event
    def open_page(self):
        self.page = 1
        return self._reload()

    @rx.event
    def search(self, form_data: dict):
        value = form_data.get("query", "") if isinstance(form_data, dict) else ""
        self.query = value[:200] if isinstance(value, str) else ""
        self.page = 1
        return self._reload()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.page_count))
        return self._reload()

    @rx.event
    def delete(self, clip_id: int):
        try:
            self.call_service(clips.delete_clip, clip_id=int(clip_id))
        except ServiceError as error:
            self.error = str(error)
            return
        reloaded = self._reload()
        return [rx.toast.success("Clip deleted."), *([reloaded] if reloaded else [])]
