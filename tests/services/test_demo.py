"""The demo seeder of the public services is idempotent; the reference data has a command."""

from sqlalchemy import func, select

from jaki.extensions import db
from jaki.services.demo import seed_services
from jaki.services.health.models import Immunisation
from jaki.services.permits.models import Application
from jaki.services.social_aid.models import AidDisbursement
from jaki.services.tax.models import TaxBill


def _counts():
    return [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Immunisation, AidDisbursement, TaxBill, Application)
    ]


def test_seeding_twice_adds_nothing(ctx, demo):
    before = _counts()
    assert before[0] == 25 and before[3] == 3
    seed_services()
    assert _counts() == before


def test_cli_seeds_reference_data(app, ctx):
    result = app.test_cli_runner().invoke(args=["services", "seed-reference"])
    assert result.exit_code == 0 and "reference data up to date" in result.output
