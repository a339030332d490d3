"""The platform running a program by itself: synthetic testers, moderators, program admins and
outsiders acting through the real services on a simulated clock (``manage.py simulate``).

``docs/simulation.md`` explains the scenario, the agents, the output and the ground truth.
"""
