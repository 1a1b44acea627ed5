"""The registry of Jakarta agencies (dinas, badan) and their integration health."""
