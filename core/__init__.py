"""Pieces every app shares: domain errors, the API error shape, pagination, base templates."""
