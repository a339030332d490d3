"""The agents of a simulated program: testers, moderators, program admins, outsiders, and
the platform's own periodic work."""
