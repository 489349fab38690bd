"""Publishing approved clips and following their views (DESIGN §3 publishing, §5 view sync).

- `tokens`: OAuth tokens encrypted at rest with a key derived from SECRET_KEY.
- `youtube`: the only module that talks to Google (OAuth, resumable upload, statistics),
  through google-auth-oauthlib and google-api-python-client; no database.
- `connections`: a clipper's YouTube, TikTok and Instagram connections (connect, renew,
  disconnect), one way for all three.
- `publications`: posts of an approved clip (uploaded from the app or added by URL),
  counts entered by hand, a clip's performance.
- `sync`: readings become append-only snapshots; money follows the views.
- `fraud`: spikes and implausible engagement flag a clip; admins clear or confirm.
"""
