"""Accounts, roles, cohorts, invitations, terms of participation and the program switch."""
