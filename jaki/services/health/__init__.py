"""Health: JKN membership, immunisations, upcoming visits (Dinas Kesehatan)."""
