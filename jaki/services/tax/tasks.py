"""Periodic tax work: due-date reminders, 7 days and 1 day before (Jakarta calendar days), once each per bill."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.events import record_event
from jaki.extensions import db
from jaki.services.tax.models import TaxBill
from jaki.timezone import jakarta_today

log = logging.getLogger(__name__)

BATCH = 500


def _jakarta_today():
    return jakarta_today(utcnow())


def remind_due_bills() -> int:
    """Record tax.bill_due for unpaid bills due in 7 days or less (once) and in 1 day or less (once).

    Idempotent: a reminder sent is stamped on the bill in the same transaction as its event, so a rerun (or a
    second worker: rows are locked, skipping those another worker holds) sends nothing twice. A bill first seen
    already inside the 1-day window gets only the 1-day reminder. Returns how many events were recorded.

    The event says what the reminder text needs (jaki.notifications.templates): the days left in Jakarta
    calendar days (a bill due on the 8th, reminded on the 2nd, has 6 left), the amount, the due date, and how to
    pay: the bill's payment code and Bapenda's pay link. Never the NIK or the vehicle plate or property.
    """
    today = _jakarta_today()
    now = utcnow()
    bapenda = db.session.get(Agency, "BAPENDA")
    pay_url = bapenda.pay_url if bapenda is not None else None
    sent = 0
    query = (
        select(TaxBill)
        .where(
            TaxBill.paid_at.is_(None),
            TaxBill.amount > 0,
            TaxBill.due_on >= today,
            TaxBill.due_on <= today + timedelta(days=7),
            (TaxBill.reminded_7d_at.is_(None)) | (TaxBill.reminded_1d_at.is_(None)),
        )
        .order_by(TaxBill.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    last_id = 0
    while True:
        bills = db.session.scalars(query.where(TaxBill.id > last_id)).all()
        if not bills:
            break
        for bill in bills:
            last_id = bill.id
            days_left = (bill.due_on - today).days
            if days_left <= 1:
                window = 1 if bill.reminded_1d_at is None else None
                bill.reminded_1d_at = bill.reminded_1d_at or now
                bill.reminded_7d_at = bill.reminded_7d_at or now  # too late for the 7-day one: never send it
            elif bill.reminded_7d_at is None:
                window = 7
                bill.reminded_7d_at = now
            else:
                window = None
            if window is None:
                continue
            recipients = db.session.scalars(
                select(User.id).where(User.nik_index == bill.nik_index, User.status == "active")
            ).all()
            record_event(
                db.session,
                "tax.bill_due",
                "tax_bill",
                bill.id,
                {
                    "recipients": list(recipients),
                    "data": {
                        "bill_id": str(bill.id),
                        "kind": bill.kind,
                        "tax_year": bill.tax_year,
                        "due_on": bill.due_on.isoformat(),
                        "days_before": window,  # which reminder this is
                        "days_left": days_left,  # what it says
                        "amount": bill.amount,
                        **({"payment_code": bill.payment_code} if bill.payment_code else {}),
                        **({"pay_url": pay_url} if pay_url else {}),
                    },
                },
            )
            sent += 1
        db.session.commit()
    log.info("tax reminders recorded", extra={"count": sent})
    return sent
