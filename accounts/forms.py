"""Web forms: they shape input; services decide."""

from django import forms

from accounts.models import Cohort, Role, TokenAnomalyAction


class SignInForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(max_length=512, strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))


class RedeemForm(forms.Form):
    code = forms.CharField(max_length=128, label="Invitation code")
    username = forms.CharField(max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username"}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(max_length=512, strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    accept_terms = forms.BooleanField(required=False, label="I accept the program's terms")


class ProgramSwitchForm(forms.Form):
    command = forms.ChoiceField(choices=[("pause", "Pause"), ("suspend", "Suspend"),
                                         ("resume", "Resume")])
    reason = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(
        attrs={"rows": 2}))


class InvitationForm(forms.Form):
    cohort = forms.ModelChoiceField(queryset=Cohort.objects.all(), to_field_name="slug",
                                    empty_label=None)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.TESTER)
    email = forms.EmailField(required=False, help_text="Optional: only this address may use it.")
    expires_in_days = forms.IntegerField(min_value=1, max_value=90, initial=14)
    max_uses = forms.IntegerField(min_value=1, max_value=1000, initial=1)


class TokenWatchPolicyForm(forms.Form):
    """The token watch's policy; ``program_policy_update`` checks the ranges."""

    token_max_addresses = forms.IntegerField(
        label="Client addresses per token and hour",
        help_text="More distinct addresses than this in one hour is an anomaly.")
    token_rate_factor = forms.FloatField(
        label="Rate factor",
        help_text="More requests in an hour than this many times the owner's usual hourly rate "
                  "is an anomaly.")
    token_rate_floor = forms.IntegerField(
        label="Rate floor (requests per hour)",
        help_text="The rate threshold never drops below this, so a new tester's first burst is "
                  "not an anomaly.")
    token_anomaly_action = forms.ChoiceField(
        label="On an anomaly", choices=TokenAnomalyAction.choices,
        help_text="Revoking refuses the token at once; its owner signs in again for a new one.")

    def policy(self) -> dict[str, object]:
        """The cleaned values as the program's policy fields (the same names)."""
        return dict(self.cleaned_data)


class ReviewPolicyForm(forms.Form):
    """The review queue's policy, in minutes and percent; ``program_policy_update`` checks
    the ranges again in its own units."""

    lease_minutes = forms.IntegerField(
        label="Lease length (minutes)", min_value=1, max_value=1440,
        help_text="How long a moderator holds a claimed clip before it goes back to the queue; "
                  "the moderator page renews the lease while it is open. New claims get the "
                  "new length.")
    second_opinion_percent = forms.DecimalField(
        label="Second opinions (% of first decisions)", min_value=0, max_value=100,
        decimal_places=2,
        help_text="This share of approved or rejected clips is reviewed again, blind, by "
                  "another moderator, for agreement studies; it never changes the outcome.")

    @staticmethod
    def initial_for(program) -> dict[str, object]:
        percent = round(program.second_opinion_rate * 100, 2)
        return {"lease_minutes": program.lease_seconds // 60,
                "second_opinion_percent": int(percent) if percent.is_integer() else percent}

    def policy(self) -> dict[str, object]:
        """The cleaned values as the program's policy fields."""
        return {"lease_seconds": self.cleaned_data["lease_minutes"] * 60,
                "second_opinion_rate": float(self.cleaned_data["second_opinion_percent"]) / 100}
