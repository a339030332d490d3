"""The approval gate: review queue claims with leases, decisions, escalation and appeals."""
