"""Dramatiq actors. `dramatiq workers` (or `make worker`) runs them.

Importing this package configures the broker from ClipGen's settings and
registers every actor. Workers never import Reflex.
"""

from clipgen.services import tasks
from workers.broker import configure_broker

broker = configure_broker()


def _send(actor_name: str, ids: dict[str, int | str]) -> None:
    broker.get_actor(actor_name).send_with_options(kwargs=ids)


tasks.install_sender(_send)

from workers import clips, email, generation, maintenance, market, money, publishing  # noqa: E402,F401  (registers actors on the broker)
