"""Web forms for clips: they shape input; services decide."""

from django import forms

from submissions.services.lifecycle import (
    GENERATION_RESOLUTIONS,
    MAX_GENERATION_S,
    MAX_PROMPT,
    MAX_TITLE,
)


class GenerateForm(forms.Form):
    prompt = forms.CharField(max_length=MAX_PROMPT, widget=forms.Textarea(attrs={"rows": 3}))
    title = forms.CharField(max_length=MAX_TITLE, required=False)
    duration_s = forms.FloatField(min_value=0.5, max_value=MAX_GENERATION_S, initial=4,
                                  label="Duration (seconds)")
    resolution = forms.ChoiceField(choices=[(r, r) for r in GENERATION_RESOLUTIONS],
                                   initial="720p")
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False,
                              help_text="Optional: the same prompt and seed give the same clip.")


class UploadForm(forms.Form):
    """Rendered for the page; the upload itself goes to the API with a progress bar."""

    file = forms.FileField(widget=forms.ClearableFileInput(
        attrs={"accept": "video/mp4,video/quicktime,video/webm,video/x-matroska"}))
    prompt = forms.CharField(max_length=MAX_PROMPT, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The prompt you used to make the clip.")
    title = forms.CharField(max_length=MAX_TITLE, required=False)
    submit = forms.BooleanField(required=False, initial=True,
                                label="Submit for review straight away")
