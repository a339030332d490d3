"""The audit actions this app records (see docs/audit-events.md)."""

from audit.registry import register

register("cohort.created", subject="accounts.cohort",
         description="A program admin (or the seed) created a cohort.",
         fields={"slug": "The cohort's slug.", "name": "The cohort's display name."})

register("account.created", subject="accounts.user",
         description="An account was created, by redeeming an invitation or by an operator.",
         fields={"roles": "The roles the account was given.",
                 "cohort": "The cohort's slug, or null.",
                 "invitation_id": "The redeemed invitation, or null for operator-made accounts.",
                 "superuser": "Whether the account holds every role (operators only)."})

register("account.changed", subject="accounts.user",
         description="Staff changed an account in the Django admin.",
         fields={"changed": "Names of the changed fields (never their values)."})

register("invitation.created", subject="accounts.invitation",
         description="A program admin created an invitation. The code is never recorded.",
         fields={"cohort": "The cohort's slug.", "role": "The role the invitation grants.",
                 "email_bound": "Whether only one e-mail address may redeem it.",
                 "expires_at": "When the invitation stops working (UTC).",
                 "max_uses": "How many accounts it may create."})

register("invitation.redeemed", subject="accounts.invitation",
         description="An invitation created an account; the actor is the new account.",
         fields={"user_id": "The new account's id.", "uses": "Uses after this redemption.",
                 "max_uses": "The invitation's limit."})

register("invitation.redemption_refused", subject="accounts.invitation",
         description=("A redemption was refused. The client was only told the code is invalid; "
                      "the reason here says why."),
         fields={"reason": "One of unknown_code, revoked, expired, used_up, email_mismatch, "
                           "terms_not_accepted."})

register("invitation.revoked", subject="accounts.invitation",
         description="A program admin revoked an invitation; it can no longer be redeemed.",
         fields={"uses": "How many times it had been used."})

register("terms.accepted", subject="accounts.user",
         description="A user accepted a version of the program's terms.",
         fields={"version": "The terms version accepted."})

register("auth.sign_in_succeeded", subject="accounts.user",
         description="A user signed in with a password.",
         fields={"method": "session (web page) or token (API)."})

register("auth.sign_in_failed",
         description=("A sign-in was refused. The actor is the account named, if it exists; "
                      "the username typed is not recorded."),
         fields={"method": "session (web page) or token (API).",
                 "reason": "bad_password, unknown_user or inactive."})

register("auth.signed_out", subject="accounts.user",
         description="A user signed out of the web pages.")

register("token.created", subject="accounts.user",
         description="An API token was issued to a user.",
         fields={"via": "sign_in (POST auth/token/), redemption or web (the tester's page)."})

register("token.revoked", subject="accounts.user",
         description=("A user's API token was revoked. The actor is its owner, a program admin, "
                      "or the system actor token-watch."),
         fields={"via": "api (DELETE auth/token/), web (the owner's page), admin (a program "
                        "admin, from the program page) or token_watch (automatically, after a "
                        "security.token_anomaly, when the program's policy is to revoke)."})

register("security.token_anomaly", subject="accounts.user",
         description=("An API token was used the way a shared or leaked one is: from more client "
                      "addresses within an hour than the policy allows, or far above its owner's "
                      "usual rate. Recorded at most once per user and hour by the system actor "
                      "token-watch; the context holds the address of the request that crossed "
                      "the threshold."),
         fields={"token_fingerprint": "The first 16 hex digits of SHA-256 of the token's key "
                                      "(never the key itself).",
                 "reason": "distinct_addresses or rate.",
                 "observed": "The figure that crossed the threshold: distinct client "
                             "addresses (the limit plus one; counting stops there), or "
                             "requests in the window so far.",
                 "threshold": "The limit it crossed: the policy's token_max_addresses, or "
                              "max(token_rate_factor * usual_per_hour, token_rate_floor) "
                              "rounded up.",
                 "usual_per_hour": "The owner's usual requests per hour of use when the window "
                                   "opened (0 without history).",
                 "window_start": "Start of the one-hour window, on the hour (UTC).",
                 "window_s": "The window's length in seconds (3600).",
                 "action": "revoked (the token was deleted; a token.revoked event follows, "
                           "and the request that crossed the threshold was refused) or alerted "
                           "(the program admins were e-mailed; the token still works)."})

for _verb, _text in (("paused", "paused: no new clips may be created or submitted"),
                     ("suspended", "suspended: testers have no access at all"),
                     ("resumed", "opened again")):
    register(f"program.{_verb}", subject="accounts.program",
             description=f"A program admin {_text}.",
             fields={"from_status": "The program's status before the change.",
                     "reason": "The reason given (shown to testers)."})

register("program.policy_changed", subject="accounts.program",
         description="A program admin changed the program's policy.",
         fields={"changed": 'Each changed policy field as {"from": before, "to": after}.'})
