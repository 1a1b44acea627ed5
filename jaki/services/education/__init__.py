"""Education: enrolment per child, KJP Plus / KJMU status and disbursements (Dinas Pendidikan)."""
