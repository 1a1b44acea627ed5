"""remind_due_bills: 7 days and 1 day before, once each per bill, only for what is owed."""

from datetime import timedelta

from sqlalchemy import select

from jaki.auth.crypto import nik_index
from jaki.db import utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.services.tax.models import TaxBill
from jaki.services.tax.tasks import _jakarta_today, remind_due_bills


def _events() -> list[OutboxEvent]:
    return list(
        db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "tax.bill_due").order_by(OutboxEvent.id))
    )


def _bill(demo, name: str, kind: str) -> TaxBill:
    return db.session.scalar(
        select(TaxBill).where(TaxBill.nik_index == nik_index(demo.niks[name]), TaxBill.kind == kind)
    )


def test_reminders_once_each_and_only_for_bills_owed(ctx, demo):
    assert remind_due_bills() == 2
    events = {e.aggregate_id: e for e in _events()}
    siti_pkb, ahmad_pkb = _bill(demo, "Siti", "pkb"), _bill(demo, "Ahmad", "pkb")
    # Siti's is due in 6 days: the 7-day reminder. Ahmad's is due tomorrow: only the 1-day one.
    assert events[str(siti_pkb.id)].payload == {
        "recipients": [demo.siti.id],
        "data": {
            "bill_id": str(siti_pkb.id),
            "kind": "pkb",
            "tax_year": siti_pkb.tax_year,
            "due_on": siti_pkb.due_on.isoformat(),
            "days_before": 7,
            "days_left": 6,
            "amount": 412_000,
            "payment_code": siti_pkb.payment_code,
            "pay_url": "https://pajakonline.jakarta.go.id",
        },
    }
    assert events[str(ahmad_pkb.id)].payload["data"]["days_before"] == 1
    assert events[str(ahmad_pkb.id)].payload["recipients"] == [demo.ahmad.id]
    # Budi's car (40 days), Siti's exempt PBB (Rp0) and Ahmad's paid PBB: nothing.
    assert remind_due_bills() == 0

    siti_pkb.due_on = _jakarta_today() + timedelta(days=1)
    db.session.commit()
    assert remind_due_bills() == 1
    assert _events()[-1].payload["data"]["days_before"] == 1
    assert remind_due_bills() == 0
    for event in _events():
        assert demo.niks["Siti"] not in str(event.payload) and "B 3217" not in str(event.payload)


def test_paid_and_overdue_bills_are_not_reminded(ctx, demo):
    siti_pkb = _bill(demo, "Siti", "pkb")
    siti_pkb.paid_at = utcnow()
    ahmad_pkb = _bill(demo, "Ahmad", "pkb")
    ahmad_pkb.due_on = _jakarta_today() - timedelta(days=1)
    db.session.commit()
    assert remind_due_bills() == 0


def test_cli_runs_the_reminders(app, demo):
    result = app.test_cli_runner().invoke(args=["services", "remind-due-bills"])
    assert result.exit_code == 0 and "reminders recorded: 2" in result.output


def test_the_reminder_says_the_days_left_in_jakarta_the_amount_the_due_date_and_how_to_pay(client, demo, monkeypatch):
    """The case of the issue: a PKB bill due 2026-12-08, reminded on 2 December (WIB), has 6 days left."""
    from datetime import UTC, date, datetime

    from jaki.notifications.models import Notification
    from jaki.notifications.tasks import relay_outbox
    from jaki.services.tax import tasks
    from tests.factories import auth_header

    siti_pkb, ahmad_pkb = _bill(demo, "Siti", "pkb"), _bill(demo, "Ahmad", "pkb")
    siti_pkb.due_on, siti_pkb.reminded_7d_at = date(2026, 12, 8), None
    ahmad_pkb.paid_at = datetime(2026, 11, 30, tzinfo=UTC)
    db.session.commit()
    # 01:30 WIB on 2 December is still 1 December in UTC: the Jakarta date is the one that counts.
    monkeypatch.setattr(tasks, "utcnow", lambda: datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    assert remind_due_bills() == 1
    relay_outbox()
    row = db.session.scalar(
        select(Notification).where(Notification.recipient_id == demo.siti.id, Notification.type == "tax.bill_due")
    )
    assert row.title == "Pengingat pajak"
    assert row.body == (
        f"Tagihan pajak PKB {siti_pkb.tax_year} sebesar Rp412.000 jatuh tempo dalam 6 hari, pada 8 Desember 2026. "
        f"Bayar dengan kode bayar {siti_pkb.payment_code} di pajakonline.jakarta.go.id."
    )
    inbox = client.get("/api/v1/me/notifications", headers={**auth_header(demo.siti), "Accept-Language": "en"})
    (item,) = [i for i in inbox.json["items"] if i["type"] == "tax.bill_due"]
    assert item["body"] == (
        f"Your PKB {siti_pkb.tax_year} tax bill of Rp412,000 is due in 6 days, on 8 December 2026. "
        f"Pay with payment code {siti_pkb.payment_code} at pajakonline.jakarta.go.id."
    )
    assert demo.niks["Siti"] not in row.body and "B 3217" not in row.body


def test_the_last_reminder_says_tomorrow_or_today(ctx, demo, monkeypatch):
    from datetime import UTC, date, datetime

    from jaki.notifications.templates import TEMPLATES
    from jaki.services.tax import tasks

    siti_pkb = _bill(demo, "Siti", "pkb")
    siti_pkb.due_on, siti_pkb.reminded_7d_at, siti_pkb.reminded_1d_at = date(2026, 12, 8), None, None
    db.session.commit()
    monkeypatch.setattr(tasks, "utcnow", lambda: datetime(2026, 12, 8, 1, 0, tzinfo=UTC))  # 08:00 WIB, due today
    remind_due_bills()
    data = [e for e in _events() if e.aggregate_id == str(siti_pkb.id)][-1].payload["data"]
    assert (data["days_before"], data["days_left"]) == (1, 0)
    body = TEMPLATES["tax.bill_due"].render(data, "id")[1]
    assert body.startswith(
        f"Tagihan pajak PKB {siti_pkb.tax_year} sebesar Rp412.000 jatuh tempo hari ini, pada 8 Desember"
    )
