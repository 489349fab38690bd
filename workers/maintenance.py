"""Housekeeping actors, sent on a timer by `workers.scheduler`.

Each takes no arguments and is safe to run twice or concurrently: it only
removes what nothing will use again.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path

import dramatiq

from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.services import maintenance
from clipgen.services.auth import service as auth
from clipgen.services.media import videos

log = logging.getLogger(__name__)

# Module constants so that a test (or an operator's script) can change them.
# An upload streams into `<data_dir>/uploads/<random>.part` and may take hours on a slow
# link; every chunk touches the file, so only a part quiet this long is abandoned.
UPLOAD_PART_MAX_AGE_S = 6 * 3600
# A re-render (`workers.clips`, time limit 30 minutes) works in `<data_dir>/work/clip-...`.
CLIP_WORK_MAX_AGE_S = 2 * 3600

_JOB_FOLDER = re.compile(r"job-(\d+)")  # workers.generation.job_work_dir
# workers.clips.rerender_clip's mkdtemp, and workers.generation's source-analysis folders
_CLIP_FOLDER = re.compile(r"clip-\d+-v\d+-.+|analysis-\d+-[0-9a-f]{8}")
_TRASH_PREFIX = ".sweep-"  # a folder renamed out of use, deleted next


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def purge_expired_sessions() -> None:
    """Delete sign-in sessions and failure records that can no longer be used."""
    with session_scope() as session:
        auth.purge_expired_sessions(session=session)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def sweep_work_files() -> None:
    """Delete abandoned upload parts and work folders no job will use again (scheduled)."""
    sweep_files()


def sweep_files() -> dict[str, int]:
    """Delete abandoned upload parts and work folders no job will use again.

    Removes `uploads/*.part` untouched for `UPLOAD_PART_MAX_AGE_S`; `work/job-N/`
    when job N is finished or gone (never while it is queued or running: a
    resumed run needs it); `work/clip-*` re-render folders untouched for
    `CLIP_WORK_MAX_AGE_S`, and so are a killed source analysis's `work/analysis-*`.
    Returns how many of each it removed.
    """
    data_dir = get_settings().data_dir
    now = time.time()
    removed = {
        "upload_parts": _sweep_upload_parts(data_dir / "uploads", now),
        "job_folders": _sweep_job_folders(data_dir / "work"),
        "clip_folders": _sweep_clip_folders(data_dir / "work", now),
    }
    if any(removed.values()):
        log.info("Swept work files: %s", removed)
    return removed


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def sweep_abandoned_uploads() -> None:
    """Remove uploads that never finished (a closed tab, a crashed app): rows and objects."""
    with session_scope() as session:
        removed = videos.sweep_abandoned_uploads(session=session)
    if removed:
        log.info("Swept %d abandoned upload(s).", removed)


def _latest_change(path: Path) -> float:
    """The newest modification time of `path` or anything inside it (now if it vanishes)."""
    try:
        latest = path.lstat().st_mtime
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                latest = max(latest, os.lstat(os.path.join(root, name)).st_mtime)
    except FileNotFoundError:
        return time.time()  # changing under us: somebody is using it
    return latest


def _sweep_upload_parts(uploads: Path, now: float) -> int:
    """Delete upload parts nobody has written to for `UPLOAD_PART_MAX_AGE_S`."""
    removed = 0
    for part in uploads.glob("*.part") if uploads.is_dir() else ():
        try:
            stat = part.lstat()
        except FileNotFoundError:
            continue  # accepted or cancelled meanwhile
        if part.is_file() and not part.is_symlink() and now - stat.st_mtime > UPLOAD_PART_MAX_AGE_S:
            part.unlink(missing_ok=True)
            removed += 1
    return removed


def _sweep_job_folders(work: Path) -> int:
    """Delete the work folders of jobs that are finished or gone; keep queued and running ones."""
    if not work.is_dir():
        return 0
    folders = {}
    for path in work.iterdir():
        match = _JOB_FOLDER.fullmatch(path.name)
        if match and path.is_dir() and not path.is_symlink():
            folders[int(match.group(1))] = path
    removed = 0
    if folders:
        with session_scope() as session:
            # The rows stay locked until this block commits, so no job is retried and
            # claimed while its folder is moved away; a later run starts a fresh folder.
            keep = maintenance.unfinished_job_ids(session=session, job_ids=folders)
            for job_id, path in folders.items():
                if job_id in keep:
                    continue
                try:
                    path.rename(work / f"{_TRASH_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}")
                except FileNotFoundError:
                    continue  # its worker removed it as the job ended
                except OSError:
                    log.warning("Could not move %s away", path, exc_info=True)
                    continue
                removed += 1
    # Deleting (slow for a big source video) happens outside the transaction; this also
    # finishes what an earlier, interrupted sweep moved away.
    for trash in work.glob(f"{_TRASH_PREFIX}*"):
        shutil.rmtree(trash, ignore_errors=True)
    return removed


def _sweep_clip_folders(work: Path, now: float) -> int:
    """Delete re-render work folders nothing has changed for `CLIP_WORK_MAX_AGE_S`."""
    removed = 0
    for path in work.iterdir() if work.is_dir() else ():
        if not (_CLIP_FOLDER.fullmatch(path.name) and path.is_dir() and not path.is_symlink()):
            continue
        if now - _latest_change(path) > CLIP_WORK_MAX_AGE_S:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
