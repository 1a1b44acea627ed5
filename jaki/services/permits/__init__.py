"""Permits (DPMPTSP) and kelurahan/kecamatan letters: applications, documents, statuses, SLA."""
