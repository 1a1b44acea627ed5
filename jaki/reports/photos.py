"""Report photos: sanitised on upload, stored, thumbnailed by a MEDIA job, served to who may see the report."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from flask import url_for

from jaki.auth.models import User
from jaki.db import new_uuid
from jaki.errors import JakiError, NotFound, field_error
from jaki.extensions import db
from jaki.i18n import current_language
from jaki.jobs import Queues, enqueue_safely
from jaki.media import phash
from jaki.media.images import PhotoRejected, SanitizedPhoto, sanitize_photo
from jaki.media.storage import app_storage
from jaki.reports import workflow as wf
from jaki.reports.models import Report, ReportPhoto
from jaki.reports.scope import check_visible, load_report
from jaki.reports.tasks import make_photo_thumbnail
from jaki.settings import setting

log = logging.getLogger(__name__)


def _photo_error(index: int, exc: PhotoRejected) -> JakiError:
    message = exc.message_en if current_language() == "en" else exc.message_id
    return JakiError(exc.code, status=exc.http_status, message=message, errors={"photos": [f"{index + 1}: {message}"]})


def sanitize_uploads(uploads: Sequence[bytes], already: int = 0) -> list[SanitizedPhoto]:
    """Validate and clean photos (real type from the bytes, size and pixel caps, EXIF/GPS stripped)."""
    limit = setting("REPORTS_MAX_PHOTOS")
    if already + len(uploads) > limit:
        raise field_error("photos", "too_many_photos", max=limit)
    cleaned = []
    for index, data in enumerate(uploads):
        try:
            cleaned.append(sanitize_photo(data, max_bytes=setting("REPORTS_PHOTO_MAX_BYTES")))
        except PhotoRejected as exc:
            raise _photo_error(index, exc) from None
    return cleaned


def store_photo(
    report: Report, photo: SanitizedPhoto, *, kind: str, position: int, uploader: User | None, round_: int = 0
) -> ReportPhoto:
    row = ReportPhoto(
        id=new_uuid(),
        report_id=report.id,
        kind=kind,
        position=position,
        round=round_,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size_bytes=len(photo.content),
        sha256=photo.sha256,
        phash=phash.dhash(photo.content),
        uploaded_by_id=uploader.id if uploader else None,
        storage_key="",
    )
    row.storage_key = f"reports/{report.id}/{row.id}.{photo.extension}"
    app_storage().put(row.storage_key, photo.content, photo.content_type)
    db.session.add(row)
    return row


def discard_photos(keys: Iterable[str]) -> None:
    for key in keys:
        try:
            app_storage().delete(key)
        except Exception:  # noqa: BLE001 - best effort: an orphan object is harmless, the error that got us here is not
            log.warning("could not delete orphan photo", extra={"key": key})


def enqueue_thumbnails(photo_ids: list[str]) -> None:
    """After the commit. Ids captured before it: touching an expired row here would open a read transaction
    that an inline job's write (embedded SQLite) then leaves stale, and the caller's next write would fail.
    With Redis down the report stays filed: its photos are served full size until a thumbnail exists."""
    for photo_id in photo_ids:
        if not enqueue_safely(make_photo_thumbnail, photo_id, queue=Queues.MEDIA):
            break


def photo_url(photo: ReportPhoto, thumbnail: bool = False) -> str:
    key = photo.thumbnail_key if thumbnail and photo.thumbnail_key else photo.storage_key
    direct = app_storage().url(key)
    if direct:
        return direct
    params = {"thumbnail": 1} if thumbnail else {}
    return url_for("reports.photo", report_id=photo.report_id, photo_id=photo.id, **params)


def read_photo(
    report_id: str, photo_id: str, thumbnail: bool = False, viewer: User | None = None
) -> tuple[bytes, str, bool]:
    """(bytes, content type, public) of a photo of a report the viewer may see; the thumbnail once it exists."""
    report = load_report(report_id)
    check_visible(report, viewer)
    photo = db.session.get(ReportPhoto, photo_id) if len(photo_id) <= 36 else None
    if photo is None or photo.report_id != report.id:
        raise NotFound()
    public = report.status in wf.PUBLIC_STATUSES
    if thumbnail and photo.thumbnail_key:
        return app_storage().get(photo.thumbnail_key), "image/jpeg", public
    return app_storage().get(photo.storage_key), photo.content_type, public
