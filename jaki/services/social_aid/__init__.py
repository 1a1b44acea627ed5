"""Social aid (bansos): programmes, eligibility check, enrolment, disbursements (Dinas Sosial)."""
