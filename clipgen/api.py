"""HTTP routes the Reflex backend serves besides its own: private files, and the
endpoint Stripe posts its webhook events to.

Locally stored files are reachable only through short-lived URLs that the
services sign for the file's owner (`Storage.presigned_url`); S3 files go
straight to S3's presigned URLs and never pass through here.
"""

from __future__ import annotations

import functools
import mimetypes
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.services import rate_limits
from clipgen.services.client_address import client_address
from clipgen.services.errors import RateLimited
from clipgen.services.money import stripe_events
from clipgen.storage import (
    LOCAL_FILES_ROUTE,
    InvalidKey,
    LocalStorage,
    attachment_disposition,
    get_storage,
    verify_local_signature,
)


def request_address(request: Request) -> str:
    """The client's address, as far as the trusted proxies vouch for it."""
    return client_address(
        request.client.host if request.client else "",
        ",".join(request.headers.getlist("x-forwarded-for")),
        get_settings().trusted_proxy_hops or 0,
    )


def _too_many(refused: RateLimited) -> Response:
    return PlainTextResponse(
        str(refused), status_code=429, headers={"Retry-After": str(refused.retry_after)}
    )


def limited(kind: str) -> Callable:
    """Count the request against `kind`'s limit per client address before the route
    runs; over it, answer 429 with Retry-After and do nothing."""

    def decorate(route: Callable[[Request], Awaitable[Response]]) -> Callable:
        @functools.wraps(route)
        async def checked(request: Request) -> Response:
            try:
                rate_limits.hit(kind, rate_limits.address_key(request_address(request)))
            except RateLimited as refused:
                return _too_many(refused)
            return await route(request)

        return checked

    return decorate


@limited("http_signed_files")
async def serve_private_file(request: Request) -> Response:
    """A locally stored file, for a URL whose signature and expiry check out."""
    key = request.path_params["key"]
    query = request.query_params
    name = query.get("name", "")
    if not verify_local_signature(key, query.get("expires", ""), query.get("sig", ""), name):
        return PlainTextResponse("This link has expired or is not valid.", status_code=403)
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        return PlainTextResponse("Not found.", status_code=404)
    try:
        path = storage.path_for(key)
    except InvalidKey:
        return PlainTextResponse("Not found.", status_code=404)
    if not path.is_file():
        return PlainTextResponse("Not found.", status_code=404)
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    if name:
        headers["Content-Disposition"] = attachment_disposition(name)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=headers)


def _keep_event(payload: bytes, signature: str | None) -> stripe_events.Received:
    event = stripe_events.verified_event(payload, signature)
    with session_scope() as session:
        return stripe_events.store(session, event)


async def stripe_webhook(request: Request) -> Response:
    """A Stripe event: the raw body's signature checked, the event stored once, 2xx at
    once. A bad signature gets 400 and changes nothing.

    Only refused signatures count against the `webhook` limit of the address, and past
    it they are answered 429: Stripe sends bursts from a few addresses, and a signed
    delivery is never turned away, whatever else came from its address."""
    payload = await request.body()
    try:
        received = await run_in_threadpool(
            _keep_event, payload, request.headers.get("stripe-signature")
        )
    except stripe_events.BadSignature as refused:
        try:
            rate_limits.hit("webhook", rate_limits.address_key(request_address(request)))
        except RateLimited as too_many:
            return _too_many(too_many)
        return PlainTextResponse(str(refused), status_code=400)
    return JSONResponse({"received": True, "duplicate": not received.new})


files_app = Starlette(
    routes=[
        Route(f"{LOCAL_FILES_ROUTE}/{{key:path}}", serve_private_file, methods=["GET", "HEAD"]),
        Route(routes.STRIPE_WEBHOOK, stripe_webhook, methods=["POST"]),
    ]
)
