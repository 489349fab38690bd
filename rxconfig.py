"""Reflex configuration, derived from ClipGen's one settings object."""

import reflex as rx

from clipgen.config import get_settings

settings = get_settings()
settings.check_production_safety()

config = rx.Config(
    app_name="clipgen",
    telemetry_enabled=False,
    deploy_url=settings.app_url,
    # Reflex's default ("*", with cookies) lets any site drive /_event and /_upload.
    cors_allowed_origins=settings.effective_cors_allowed_origins,
    redis_url=settings.redis_url or None,
    state_manager_mode="redis" if settings.redis_url else "disk",
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                accent_color="violet", gray_color="slate", radius="large", has_background=True
            )
        ),
    ],
)
