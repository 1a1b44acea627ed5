"""Closing an account (UU PDP right to erasure): personal data erased, history kept under a pseudonymous id."""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta

from sqlalchemy import delete, select, update

from jaki.auth import tokens
from jaki.auth.crypto import cipher
from jaki.auth.models import LoginThrottle, OtpChallenge, RecordedMessage, RefreshToken, User
from jaki.auth.operations import check_password
from jaki.db import utcnow
from jaki.errors import Unauthorized
from jaki.extensions import db
from jaki.i18n import translate
from jaki.idempotency import IdempotencyRecord
from jaki.notifications.models import BroadcastRead, Device, InboxState, Notification, NotificationPreference
from jaki.notifications.tasks import enqueue_topic_sync
from jaki.pdp.access import subject_indexes_of_user
from jaki.pdp.models import AccessLogEntry, ConsentChoice, CorrectionRequest, DeletionReceipt
from jaki.reports.models import Report
from jaki.services.models import SectionCache
from jaki.settings import setting
from jaki.timezone import WIB

log = logging.getLogger(__name__)

DELETED = "deleted"

# What the receipt tells the citizen (codes resolved in the language asked, jaki.pdp.messages).
ERASED = (
    "account",  # NIK, name, birth date, sex, phone, email, password, home kelurahan, household link
    "sessions",  # refresh tokens, revoked at once
    "devices",  # FCM registrations, unsubscribed from every topic, then deleted
    "notifications",  # inbox, preferences, read state
    "one_time_codes",
    "consents",
    "correction_requests",
    "service_cache",  # copies of agency answers kept for the overview
    "idempotency_answers",
)
KEPT = (
    "reports_anonymous",  # reports stay public, marked anonymous: other residents rely on them
    "history_pseudonymous",  # report and permit history name a pseudonymous id, not the person
    "audit_trail",  # who read what: kept by law (UU PDP art. 31 record of processing), pseudonymised
    "access_log_pseudonymous",
    "permit_files",  # issued permits and letters are public archives (UU 43/2009 Kearsipan)
    "agency_records",  # what Dukcapil, Dinkes, Dinsos, Disdik and Bapenda hold is theirs: ask them
)


def _reference() -> str:
    return f"DEL-{utcnow().astimezone(WIB):%Y%m%d}-{secrets.token_hex(4).upper()}"


def close_account(user: User, password: str, access_payload: dict | None = None) -> DeletionReceipt:
    """Erase the person now; keep what the law asks for, pseudonymised; answer with the receipt."""
    if not check_password(user.nik_index, user.password_hash, password):
        raise Unauthorized("password_wrong")
    now = utcnow()
    pseudonym = user.id  # a random UUID: once the row below is blank it points at nobody
    keys = subject_indexes_of_user(user)
    phone = user.phone
    receipt = DeletionReceipt(reference=_reference(), pseudonym=pseudonym, requested_at=now)
    db.session.add(receipt)

    devices = _remove_devices(user.id, now)
    counts = {"reports": _anonymise_reports(user.id), "devices": len(devices)}
    tokens.revoke_all_for_user(user.id)
    if access_payload:
        tokens.revoke_token(access_payload)
    session_rows = db.session.execute(delete(RefreshToken).where(RefreshToken.user_id == user.id)).rowcount
    counts["sessions"] = session_rows
    db.session.execute(delete(OtpChallenge).where(OtpChallenge.user_id == user.id))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.nik_index == user.nik_index))
    db.session.execute(delete(ConsentChoice).where(ConsentChoice.user_id == user.id))
    db.session.execute(delete(CorrectionRequest).where(CorrectionRequest.user_id == user.id))
    _erase_owned_rows(user.id)
    _erase_recorded_messages(phone)
    # The access log stays (a record of processing) but under the pseudonym: no NIK index, phone or email index.
    db.session.execute(
        update(AccessLogEntry).where(AccessLogEntry.subject_index.in_(keys)).values(subject_index=f"x:{pseudonym}")
    )
    _blank(user, now)
    receipt.completed_at = utcnow()
    receipt.summary = {
        "erased": list(ERASED),
        "kept": list(KEPT),
        "counts": counts,
        "backups_expire_by": (now + timedelta(days=setting("PDP_BACKUP_RETENTION_DAYS"))).isoformat(),
    }
    db.session.commit()
    _enqueue_unsubscribes(devices)
    log.info("account closed", extra={"user_id": pseudonym, "receipt": receipt.reference})
    return receipt


def _anonymise_reports(user_id: str) -> int:
    return db.session.execute(
        update(Report)
        .where(Report.reporter_id == user_id)
        .values(anonymous=True)
        .execution_options(synchronize_session=False)
    ).rowcount


def _remove_devices(user_id: str, now) -> list[str]:
    """Marked removed: the topic job (after commit, or the sweeper) unsubscribes each from FCM, then deletes it."""
    ids = list(db.session.scalars(select(Device.id).where(Device.user_id == user_id)))
    if ids:
        db.session.execute(update(Device).where(Device.id.in_(ids)).values(removed_at=now, topics_synced_at=None))
    return ids


def _enqueue_unsubscribes(device_ids: list[str]) -> None:
    for device_id in device_ids:
        enqueue_topic_sync(device_id)


def _erase_owned_rows(user_id: str) -> None:
    for model, column in (
        (Notification, Notification.recipient_id),
        (NotificationPreference, NotificationPreference.user_id),
        (InboxState, InboxState.user_id),
        (BroadcastRead, BroadcastRead.user_id),
        (SectionCache, SectionCache.user_id),
    ):
        db.session.execute(delete(model).where(column == user_id).execution_options(synchronize_session=False))
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.principal == f"user:{user_id}"))


def _erase_recorded_messages(phone: str) -> None:
    """The embedded default's recorded SMS to this phone (production records none)."""
    doomed = []
    for row_id, recipient in db.session.execute(
        select(RecordedMessage.id, RecordedMessage.recipient).where(RecordedMessage.channel == "sms")
    ):
        try:
            if cipher().decrypt(recipient, "phone") == phone:
                doomed.append(row_id)
        except Exception:  # noqa: BLE001, S112 - a recipient this cipher cannot read is not this person's
            continue
    if doomed:
        db.session.execute(delete(RecordedMessage).where(RecordedMessage.id.in_(doomed)))


def _blank(user: User, now) -> None:
    """The row stays (history points at its id) with nothing personal left in it; it can never log in again."""
    user.status = DELETED
    user.nik_index = f"deleted:{user.id}"
    user.nik_encrypted = ""
    user.full_name = ""
    user.birth_date = date(1900, 1, 1)
    user.sex = "-"
    user.phone_encrypted = ""
    user.phone_verified_at = None
    user.email = None
    user.password_hash = "!"  # noqa: S105 - not a password: no argon2 hash, so no password matches it
    user.password_changed_at = now + timedelta(seconds=1)  # every token issued until now is dead
    user.last_login_at = None
    user.home_kelurahan_code = None
    user.kk_index = None
    user.areas = []


def receipt_view(receipt: DeletionReceipt) -> dict:
    summary = receipt.summary or {}
    return {
        "reference": receipt.reference,
        "requested_at": receipt.requested_at,
        "completed_at": receipt.completed_at,
        "message": translate("pdp_deletion_done", reference=receipt.reference),
        "erased": [{"what": c, "label": translate(f"pdp_erased_{c}")} for c in summary.get("erased", [])],
        "kept": [
            {"what": c, "label": translate(f"pdp_kept_{c}"), "why": translate(f"pdp_kept_{c}_why")}
            for c in summary.get("kept", [])
        ],
        "backups_expire_by": summary.get("backups_expire_by"),
    }


def find_receipt(reference: str) -> DeletionReceipt | None:
    if len(reference) > 24:
        return None
    return db.session.scalar(select(DeletionReceipt).where(DeletionReceipt.reference == reference.strip().upper()))
