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
ADMIN_USER = "/admin/users/[user_id]"
APPEAL = "/appeal"
JOB = "/jobs/[job_id]"
MARKET_CAMPAIGN = "/marketplace/[campaign_id]"
MY_WORK = "/work"
# Served by the backend (clipgen/api.py), not a page: where Stripe posts its events.
STRIPE_WEBHOOK = "/stripe/webhook"
CLAIM = "/work/[claim_id]"
NEW_CAMPAIGN = "/campaigns/new"
CAMPAIGN = "/campaigns/[campaign_id]"
CAMPAIGN_ANALYTICS = "/campaigns/[campaign_id]/analytics"
PROFILE = "/clippers/[clipper_id]"
NOTIFICATIONS = "/notifications"
CLIP_PERFORMANCE = "/performance/[submission_id]"
YOUTUBE_CALLBACK = "/account/youtube/callback"
TIKTOK_CALLBACK = "/account/tiktok/callback"
INSTAGRAM_CALLBACK = "/account/instagram/callback"


def job(job_id: int) -> str:
    """The page of one processing job."""
    return f"/jobs/{int(job_id)}"


def login(next_path: str = "") -> str:
    """The sign-in page, coming back to `next_path` (an in-app path) afterwards."""
    return f"{LOGIN}?next={quote(next_path, safe='/')}" if next_path else LOGIN


def is_app_path(path: object) -> bool:
    """Whether `path` is a path of this app, safe to redirect to or to link to: it starts
    with one "/", and has no backslash, whitespace or control character (a browser drops a
    tab or newline, so "/<tab>/evil.example" would go to another site)."""
    return (
        isinstance(path, str)
        and path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and all(ch.isprintable() and not ch.isspace() for ch in path)
    )


def market_campaign(campaign_id: int) -> str:
    """A campaign as clippers see it in the marketplace."""
    return f"/marketplace/{int(campaign_id)}"


def claim(claim_id: int) -> str:
    """A clipper's work on one claim."""
    return f"/work/{int(claim_id)}"


def campaign(campaign_id: int) -> str:
    """A client's page of one of their campaigns."""
    return f"/campaigns/{int(campaign_id)}"


def campaign_analytics(campaign_id: int) -> str:
    """One campaign's charts: spend, views, effective CPM, submissions, top clippers."""
    return f"/campaigns/{int(campaign_id)}/analytics"


def profile(clipper_id: int) -> str:
    """A clipper's public profile and portfolio."""
    return f"/clippers/{int(clipper_id)}"


def clip_performance(submission_id: int) -> str:
    """An approved clip's posts, views over time and earnings line by line."""
    return f"/performance/{int(submission_id)}"


def admin_user(user_id: int) -> str:
    """An admin's page of one account: roles, sign-ins, work, money, audit trail."""
    return f"/admin/users/{int(user_id)}"
