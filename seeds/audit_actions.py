"""The audit actions this app records (see docs/audit-events.md)."""

from audit.registry import register

register("simulation.started",
         description=("A simulated program began: everything after it in the log was produced "
                      "by `manage.py simulate` (synthetic people acting through the platform's "
                      "services on a simulated clock), not by real people."),
         fields={"scenario": "The scenario's name, such as sora-2024.",
                 "seed": "The random seed; the same scenario, parameters and seed produce the "
                         "same log.",
                 "parameters": "Every parameter of the run (testers, moderators, days, "
                               "second_opinion_rate, lease_minutes, media, activity, ...)."})
