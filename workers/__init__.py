"""Dramatiq actors. `dramatiq workers` (or `make worker`) runs them.

Importing this package configures the broker from ClipGen's settings and
registers every actor. Workers never import Reflex.
"""

from workers.broker import configure_broker

broker = configure_broker()

from workers import clips, email, generation, maintenance, market, money, publishing  # noqa: E402,F401  (registers actors on the broker)
