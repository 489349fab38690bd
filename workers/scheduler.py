"""Periodic work: sends maintenance actors on a timer (APScheduler).

`SCHEDULE` below is the whole timetable, one line per actor. The scheduler only
*sends* messages; workers run them, so every scheduled actor takes no
arguments and is safe to run twice.

- Production (`REDIS_URL` set): exactly one `python -m workers.scheduler`
  (`make scheduler`) runs next to the workers; the app schedules nothing.
- Embedded (no `REDIS_URL`): `workers.embedded` runs the same schedule in the
  app process, beside the in-process worker.

Timing: each line's default may be overridden with the `SCHEDULE` setting, a
JSON object of actor name -> "every 30s" / "every 5m" / "every 2h" / "every 1d"
or a five-field crontab line (UTC). Missed runs coalesce into one (a scheduler
that was stalled for an hour sends one recovery, not sixty), one send of each
line runs at a time, and each message expires after one period, so a backlog
left while the workers were down does not run the same sweep many times over.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dramatiq
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import workers
from clipgen.config import get_settings
from workers.clips import recover_stale_renders
from workers.email import recover_stale_emails
from workers.generation import recover_stale_jobs
from workers.maintenance import purge_expired_sessions, sweep_abandoned_uploads, sweep_work_files
from workers.market import (
    auto_approve_submissions,
    close_due_campaigns,
    expire_claims,
    warn_expiring_claims,
)
from workers.money import reconcile_stripe, recover_stripe_events, release_matured_earnings
from workers.publishing import recover_stale_uploads, sync_views

log = logging.getLogger("workers.scheduler")


@dataclass(frozen=True)
class Scheduled:
    """One line of the schedule: an actor (no arguments) and when to send it."""

    actor: dramatiq.Actor
    when: str | Callable[[], str]  # "every <n>s|m|h|d", a crontab line in UTC, or a setting

    @property
    def default_timing(self) -> str:
        """The line's timing unless `SCHEDULE` overrides it."""
        return self.when() if callable(self.when) else self.when

    @property
    def name(self) -> str:
        """The actor's name: the job id, and the key of a `SCHEDULE` override."""
        return self.actor.actor_name


SCHEDULE: tuple[Scheduled, ...] = (
    # Re-send jobs no worker is on (a killed worker, a lost message).
    Scheduled(recover_stale_jobs, "every 1m"),
    # Expired sign-in sessions and old login failures.
    Scheduled(purge_expired_sessions, "5 * * * *"),
    # Abandoned upload parts, work folders of finished jobs, stale re-render folders.
    Scheduled(sweep_work_files, "35 * * * *"),
    # Re-send re-renders of trimmed clips no worker is on (the trim waits on the clip row).
    Scheduled(recover_stale_renders, "every 5m"),
    # Uploads that never finished: their rows and stored objects.
    Scheduled(sweep_abandoned_uploads, "20 * * * *"),
    # Pending earnings whose hold (EARNINGS_HOLD_DAYS) ended become available.
    Scheduled(release_matured_earnings, "50 * * * *"),
    # Claims past their time-to-live expire (their slots free up); clippers whose claim
    # expires within a few hours are warned once.
    Scheduled(expire_claims, "every 5m"),
    Scheduled(warn_expiring_claims, "every 5m"),
    # Submissions left unreviewed for 72 hours are approved (and paid) automatically.
    Scheduled(auto_approve_submissions, "every 15m"),
    # Live campaigns whose deadline passed are completed.
    Scheduled(close_due_campaigns, "every 15m"),
    # YouTube uploads no worker is on (a lost message, a killed worker) are sent again.
    Scheduled(recover_stale_uploads, "every 5m"),
    # Stripe webhook events stored but not worked (a lost message, retries given up).
    Scheduled(recover_stripe_events, "every 5m"),
    # Yesterday's Stripe balance transactions against the ledger (only with Stripe set up).
    Scheduled(reconcile_stripe, "30 3 * * *"),
    # Emails no worker is on (a worker that died while sending, a lost message).
    Scheduled(recover_stale_emails, "every 5m"),
    # The views of every published clip, and the money that follows them (VIEW_SYNC_CRON,
    # daily by default; an admin can also sync now).
    Scheduled(sync_views, lambda: get_settings().view_sync_cron),
)

# A message older than its line's period is dropped by the worker (Dramatiq's AgeLimit),
# but never sooner than this.
MIN_MESSAGE_AGE = timedelta(minutes=1)

_EVERY = re.compile(r"every\s+(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
JOB_DEFAULTS = {
    "coalesce": True,  # many missed runs -> one run
    "max_instances": 1,  # never two sends of one line at once
    "misfire_grace_time": None,  # a late run still happens (once), however late
}


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(line: str) -> str:
    """`line` with its day-of-week numbers as names: crontab counts 0 (and 7) as Sunday,
    APScheduler 3 counts 0 as Monday, so "* * * * 1" would otherwise run on Tuesdays."""
    fields = line.split()
    if len(fields) != 5:
        return line
    fields[4] = re.sub(
        r"(?<![/\d])\d+", lambda number: _WEEKDAYS[int(number.group()) % 7], fields[4]
    )
    return " ".join(fields)


def parse_trigger(spec: str) -> BaseTrigger:
    """A trigger from "every 30s" / "every 5m" / "every 2h" / "every 1d" or a crontab line."""
    text = spec.strip().lower()
    every = _EVERY.fullmatch(text)
    if every:
        amount = int(every.group(1))
        if amount <= 0:
            raise ValueError(f"{spec!r}: the interval must be positive.")
        return IntervalTrigger(**{_UNITS[every.group(2)]: amount}, timezone=UTC)
    if text.startswith("every"):
        raise ValueError(f"{spec!r}: write e.g. 'every 30s', 'every 5m', 'every 2h', 'every 1d'.")
    try:
        return CronTrigger.from_crontab(_crontab_weekdays(text), timezone=UTC)
    except ValueError as error:
        raise ValueError(
            f"{spec!r} is neither 'every <n>s|m|h|d' nor a five-field crontab line: {error}"
        ) from None


def period_of(trigger: BaseTrigger) -> timedelta:
    """The time between two consecutive runs of `trigger` (the next two, for a crontab)."""
    if isinstance(trigger, IntervalTrigger):
        return trigger.interval
    now = datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first)
    return second - first


def send_scheduled(actor: dramatiq.Actor, max_age_ms: int) -> None:
    """Send one scheduled message (what each scheduler job runs), and log it."""
    message = actor.send_with_options(max_age=max_age_ms)
    log.info("Sent %s (message %s).", actor.actor_name, message.message_id)


def build_scheduler(
    scheduler_class: type[BaseScheduler],
    *,
    schedule: tuple[Scheduled, ...] = SCHEDULE,
    overrides: dict[str, str] | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with one job per line of `schedule`.

    `overrides` (default: the `SCHEDULE` setting) replaces lines' timing by
    actor name; a name that is not in the schedule or a bad timing raises
    ValueError, so a typo fails loudly at start rather than never running.
    """
    overrides = get_settings().schedule if overrides is None else overrides
    known = {entry.name for entry in schedule}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"SCHEDULE names {', '.join(unknown)}, not in the schedule "
            f"({', '.join(sorted(known))})."
        )
    scheduler = scheduler_class(timezone=UTC, job_defaults=JOB_DEFAULTS)
    for entry in schedule:
        spec = overrides.get(entry.name) or entry.default_timing
        try:
            trigger = parse_trigger(spec)
        except ValueError as error:
            raise ValueError(f"Schedule of {entry.name}: {error}") from None
        max_age = max(period_of(trigger), MIN_MESSAGE_AGE)
        scheduler.add_job(
            send_scheduled,
            trigger,
            args=(entry.actor, int(max_age.total_seconds() * 1000)),
            id=entry.name,
            name=entry.name,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
    return scheduler


def describe(scheduler: BaseScheduler) -> list[str]:
    """One line per scheduled job: its name and trigger."""
    return [f"{job.id}: {job.trigger}" for job in scheduler.get_jobs()]


_embedded: BaseScheduler | None = None
_embedded_lock = threading.Lock()


def start_embedded_scheduler() -> BaseScheduler:
    """Run the schedule on a background thread of this (the app's) process."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            _embedded = build_scheduler(BackgroundScheduler)
            _embedded.start()
            log.info("Embedded scheduler started: %s", "; ".join(describe(_embedded)))
        return _embedded


def embedded_scheduler() -> BaseScheduler | None:
    """The running in-process scheduler, if any."""
    return _embedded if _embedded is not None and _embedded.running else None


def stop_embedded_scheduler() -> None:
    """Stop the in-process scheduler (a send in progress finishes first)."""
    global _embedded
    with _embedded_lock:
        if _embedded is not None and _embedded.running:
            _embedded.shutdown(wait=True)
        _embedded = None


NO_REDIS = (
    "REDIS_URL is not set. Without it ClipGen runs in embedded mode: the app runs jobs "
    "in-process and runs this schedule itself, so there is no scheduler process to start. "
    "For production, set REDIS_URL (the workers' Redis) and run exactly one "
    "`python -m workers.scheduler`."
)


def main() -> int:
    """`python -m workers.scheduler`: send the schedule to the Redis broker until stopped."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # failed sends still show
    if not get_settings().redis_url:
        print(NO_REDIS, file=sys.stderr)
        return 2
    try:
        scheduler = build_scheduler(BlockingScheduler)
    except ValueError as error:
        print(f"Invalid schedule: {error}", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: object) -> None:
        if scheduler.running:  # a second signal while stopping does nothing more
            log.info("Stopping the scheduler (%s).", signal.Signals(signum).name)
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for line in describe(scheduler):
        log.info("Scheduled %s", line)
    log.info("Scheduler sending to %s.", type(workers.broker).__name__)
    try:
        scheduler.start()  # blocks until stop()
    finally:
        workers.broker.close()
    log.info("Scheduler stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
