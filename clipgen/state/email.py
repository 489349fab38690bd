"""The Email card on the Account page: which notifications also come by email.

The choices offered are the groups of the user's roles, as the service lists them; a
save sends on/off for exactly those (read from the submitted form as untrusted text),
and the service refuses anything else, so nothing the browser sends can set another
user's choices or invent one.
"""

from __future__ import annotations

import reflex as rx

from clipgen.services.email import preferences
from clipgen.services.email.preferences import EmailPreferences
from clipgen.services.errors import ServiceError
from clipgen.state.forms import checked
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

# Every choice there is, in order (the page shows those of the user's roles).
EMAIL_CHOICES: tuple[tuple[str, str], ...] = tuple(
    (group.key, group.label) for group in preferences.EMAIL_GROUPS
)
FIELD_PREFIX = "email_"


class EmailPreferencesState(SessionState):
    """The signed-in user's email choices, and whether this server sends email at all."""

    email_loaded: bool = False
    email_configured: bool = False
    email_shown: list[str] = []
    email_on: list[str] = []
    email_error: str = ""
    email_saved: bool = False
    # Changed to remount the form, so its boxes start from what was loaded or saved.
    email_form_key: int = 0

    def _show(self, view: EmailPreferences) -> None:
        self.email_configured = view.configured
        self.email_shown = [choice.key for choice in view.choices]
        self.email_on = [choice.key for choice in view.choices if choice.enabled]
        self.email_loaded = True
        self.email_form_key += 1

    @rx.event
    @limited("expensive_read")
    def load_email_preferences(self):
        self.email_error = ""
        self.email_saved = False
        try:
            self._show(self._call_service(preferences.email_preferences))
        except ServiceError:  # signed out: the page guard sends them to sign in
            self.email_loaded = False

    @rx.event
    @shows_refusals("email_error")
    @limited("write", "email_error")
    def save_email_preferences(self, form_data: dict):
        """Save the ticked boxes: on for ticked, off for the others of the user's choices."""
        self.email_error = ""
        self.email_saved = False
        if not isinstance(form_data, dict):
            self.email_error = "Choose which emails you want."
            return None
        choices = {key: checked(form_data, FIELD_PREFIX + key) for key in self.email_shown}
        self._show(self._call_service(preferences.set_email_preferences, choices=choices))
        self.email_saved = True
        return None
