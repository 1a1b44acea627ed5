"""Citizen report photos: validating and sanitising uploads, and the object storage they live in."""
