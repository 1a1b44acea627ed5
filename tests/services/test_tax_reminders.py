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
