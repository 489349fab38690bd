"""Every page's address, in one place, and the helpers that build the dynamic ones."""

from urllib.parse import quote

LANDING = "/"
LOGIN = "/login"
REGISTER = "/register"
DASHBOARD = "/dashboard"
ACCOUNT = "/account"

MARKETPLACE = "/marketplace"
GENERATE = "/generate"
MY_CLIPS = "/clips"
EARNINGS = "/earnings"

CAMPAIGNS = "/campaigns"
REVIEWS = "/reviews"
BILLING = "/billing"

ADMIN_PAYOUTS = "/admin/payouts"
ADMIN_MONEY = "/admin/money"
ADMIN_USERS = "/admin/users"
ADMIN_FLAGS = "/admin/flags"
JOB = "/jobs/[job_id]"


def job(job_id: int) -> str:
    """The page of one processing job."""
    return f"/jobs/{int(job_id)}"


def login(next_path: str = "") -> str:
    """The sign-in page, coming back to `next_path` (an in-app path) afterwards."""
    return f"{LOGIN}?next={quote(next_path, safe='/')}" if next_path else LOGIN
