"""The audit actions this app records (see docs/audit-events.md). Together with
``submission.processed`` (a clip enters the queue) they account for every entry into and exit
from the review queue, so waiting times and queue depth can be reconstructed at any moment."""

from audit.registry import register

_CLIP = "submissions.submission"

register("review.claimed", subject=_CLIP,
         description="A moderator claimed the next item: a lease that keeps it theirs.",
         fields={"claim_id": "The claim (the fencing token of its decision).",
                 "track": "primary, appeal, escalation or second_opinion.",
                 "expires_at": "When the lease runs out unless renewed.",
                 "waited_s": "Seconds the item waited in the queue before this claim."})
register("review.renewed", subject=_CLIP,
         description="The holder renewed a lease (the moderator page does this while open).",
         fields={"claim_id": "The claim.", "expires_at": "The new expiry."})
register("review.released", subject=_CLIP,
         description="The holder gave an item back to the queue undecided.",
         fields={"claim_id": "The claim.", "held_s": "Seconds the claim was held."})
register("review.lease_expired", subject=_CLIP,
         description="A lease ran out undecided; the item is back in the queue.",
         fields={"claim_id": "The claim.", "held_s": "Seconds from claim to expiry."})
register("review.decided", subject=_CLIP,
         description=("A decision: approve, reject, or escalate to the program admins. On the "
                      "primary, appeal and escalation tracks it is the clip's effective "
                      "outcome; a second opinion is recorded for agreement only."),
         fields={"decision_id": "The decision.", "claim_id": "The claim it was made under.",
                 "track": "primary, appeal, escalation or second_opinion.",
                 "outcome": "approve, reject or escalate.",
                 "reasons": "Reason codes (empty for approvals).",
                 "taxonomy_version": "The reason taxonomy version in force.",
                 "effective": "Whether it decides the clip's status.",
                 "appeal_result": "upheld or overturned for appeal decisions, else null.",
                 "held_s": "Seconds from claim to decision."})
register("review.second_opinion_requested", subject=_CLIP,
         description="A decided clip was sampled for a blind second opinion; it enters the "
                     "queue again, behind first reviews.",
         fields={"first_decision_id": "The decision to be compared."})
register("submission.appealed", subject=_CLIP,
         description="The tester appealed a rejection (once); the clip re-enters the queue, "
                     "ahead of first reviews, for a different moderator.",
         fields={"rejection_id": "The decision appealed against.",
                 "message_chars": "Length of the tester's message (its text is not recorded)."})
register("taxonomy.published", subject="review.taxonomyversion",
         description="The reason codes changed; decisions from now on use this version.",
         fields={"version": "The new version number.", "codes": "The active codes."})
