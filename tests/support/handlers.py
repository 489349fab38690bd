"""A page's state as one browser tab holds it, for calling its handlers directly (as a
crafted websocket event would), and what the events they return ask the browser to do."""

from __future__ import annotations

from typing import Any, TypeVar

S = TypeVar("S")


def state_on(
    cls: type[S], token: str, path: str, *, user_agent: str = "", client_ip: str = ""
) -> S:
    """`cls` in a fresh tab signed in with `token`, on `path` (its query included), of a
    browser sending `user_agent` from `client_ip` (none: what a test's sign-in stores)."""
    from reflex.istate.data import RouterData
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {
            "pathname": path.split("?")[0],
            "asPath": path,
            "headers": {"origin": "http://localhost:3000", "user-agent": user_agent},
            "ip": client_ip,
        }
    )
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def redirect_path(spec: Any) -> str:
    """Where an `rx.redirect` event sends the browser; always in the same tab."""
    args = {str(name): value._var_value for name, value in spec.args}
    assert args["external"] is False  # the same tab goes away and comes back
    return args["path"]
