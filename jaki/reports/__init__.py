"""Citizen reports (Qlue-style) and the officers who resolve them."""
