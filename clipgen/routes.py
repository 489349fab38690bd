"""Every page's address, in one place."""

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
ADMIN_USERS = "/admin/users"
ADMIN_FLAGS = "/admin/flags"
JOB = "/jobs/[job_id]"
