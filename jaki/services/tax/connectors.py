"""Tax connectors: jaki's tables, or Bapenda's API (POST /v1/taxpayers/bills/query {"nik"})."""

from __future__ import annotations

from marshmallow import fields, validate

from jaki.clients.agency_client import AgencySchema
from jaki.extensions import db
from jaki.services.connectors import DomainSpec, HttpConnector, LocalConnector, Subject, iso, register_domain
from jaki.services.tax.models import KINDS, TaxBill

KIND_NAMES = {"pbb": "PBB-P2", "pkb": "PKB"}


def _bill(bill_id, kind, object_id, object_label, tax_year, amount, exemption, due_on, paid_at, payment_code) -> dict:
    return {
        "bill_id": str(bill_id),
        "kind": kind,
        "kind_name": KIND_NAMES[kind],
        "object_id": object_id,
        "object_label": object_label,
        "tax_year": tax_year,
        "amount": amount,
        "exemption": exemption,
        "due_on": iso(due_on),
        "paid": paid_at is not None,
        "paid_at": iso(paid_at),
        "owed": paid_at is None and amount > 0,
        "payment_code": payment_code,  # kode bayar: how to pay it at a bank, ATM or e-wallet
    }


def _order(bill: dict):
    # What is owed first, soonest due first; then paid or exempt ones, newest first.
    return (not bill["owed"], bill["due_on"] if bill["owed"] else "", -bill["tax_year"])


class LocalTax(LocalConnector):
    domain = "tax"
    agency_code = "BAPENDA"

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        by_index = {s.nik_index: s.member_id for s in subjects}
        out: dict[str, dict] = {s.member_id: {"bills": []} for s in subjects}
        for b in db.session.scalars(db.select(TaxBill).where(TaxBill.nik_index.in_(list(by_index)))):
            out[by_index[b.nik_index]]["bills"].append(
                _bill(
                    b.id,
                    b.kind,
                    b.object_id,
                    b.object_label,
                    b.tax_year,
                    b.amount,
                    b.exemption,
                    b.due_on,
                    b.paid_at,
                    b.payment_code,
                )
            )
        for person in out.values():
            person["bills"].sort(key=_order)
        return out


class BillSchema(AgencySchema):
    bill_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$"))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    object_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9 .-]{1,40}$"))
    object_label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tax_year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    amount = fields.Integer(required=True, validate=validate.Range(0, 10_000_000_000))
    exemption = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    due_on = fields.Date(required=True)
    paid_at = fields.AwareDateTime(load_default=None, allow_none=True)
    payment_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Z0-9-]{6,40}$"))


class TaxAnswerSchema(AgencySchema):
    bills = fields.List(fields.Nested(BillSchema), required=True, validate=validate.Length(max=200))


class HttpTax(HttpConnector):
    domain = "tax"
    agency_code = "BAPENDA"
    path = "/v1/taxpayers/bills/query"
    schema = TaxAnswerSchema

    def empty(self) -> dict:
        return {"bills": []}

    def present(self, loaded: dict) -> dict:
        bills = [_bill(**b) for b in loaded["bills"]]
        bills.sort(key=_order)
        return {"bills": bills}


# Tax is the taxpayer's own: a head of family does not see a child's (rare) bills.
register_domain(DomainSpec("tax", "BAPENDA", LocalTax, HttpTax, dependents=False, officer_agencies=("BAPENDA",)))
