"""The Reflex app: every page of the product (the theme is in rxconfig.py)."""

import reflex as rx

from clipgen.api import files_app
from clipgen.pages import account, auth, clips, coming_soon, dashboard, generate, job, landing  # noqa: F401
from workers.embedded import in_process_worker

app = rx.App(api_transformer=files_app)
app.register_lifespan_task(in_process_worker)
