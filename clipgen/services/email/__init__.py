"""Email notifications (SMTP, off unless `SMTP_URL` is set).

- `preferences`: which notifications have an email (in groups), and the groups each
  user turned off.
- `outbox`: the email of a notification, written to `email_deliveries` in the
  notification's own unit of work (called by `notifications.notify`).
- `sending`: a worker claims a queued email, sends it with smtplib, records the outcome
  and retries with backoff; the sweep takes over emails a dead worker left.
"""
