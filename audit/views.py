"""The researcher dashboard: the approval gate's metrics as charts and tables, the exports,
the latest checkpoint of the log and the data dictionary, on one server-rendered page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from accounts.models import Role
from accounts.permissions import page_for
from audit.registry import all_actions
from audit.research import charts, rollups
from audit.research.access import NoStudy, NotInStudy, scope_for
from audit.research.datasets import all_datasets
from audit.research.metrics import (
    MetricFilters,
    cohorts_seen,
    metric_filters,
    metrics_overview,
    over_time,
)
from audit.sealing import latest_checkpoint
from core.errors import DomainError

EXPORT_FORMATS = ("csv", "jsonl", "parquet")
# Each suspension also gets an hourly chart of the hours around it, however long the window:
# a leak of a few hours would otherwise vanish into daily buckets.
INCIDENT_CHARTS = 3
INCIDENT_MARGIN = timedelta(hours=6)

_MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DashboardFilters(forms.Form):
    since = forms.DateTimeField(required=False, label="From (UTC)", widget=_MOMENT)
    until = forms.DateTimeField(required=False, label="Until (UTC, exclusive)", widget=_MOMENT)
    cohort = forms.SlugField(required=False, max_length=64)
    study = forms.SlugField(required=False, max_length=64)

    def __init__(self, *args: Any, cohorts: list[str], studies: list[Any],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].widget = forms.Select(
            choices=[("", "All cohorts"), *((slug, slug) for slug in cohorts)])
        if len(studies) > 1:
            self.fields["study"].widget = forms.Select(
                choices=[(study.slug, study.name) for study in studies])
        else:
            del self.fields["study"]


def _export_links(query: dict[str, str], scope: Any) -> list[dict[str, Any]]:
    suffix = f"?{urlencode(query)}" if query else ""
    return [{"dataset": dataset,
             "columns": dataset.columns_for(scope),
             "links": [(fmt, reverse("research-export",
                                     kwargs={"dataset": dataset.name, "format": fmt}) + suffix)
                       for fmt in EXPORT_FORMATS]}
            for dataset in all_datasets()]


def _incident_charts(metrics: dict[str, Any], filters: MetricFilters) -> list[charts.Chart]:
    """An hourly chart around each suspension: from some hours before it (the leak) to some
    hours after it ends."""
    drawn = []
    for suspension in metrics["suspensions"][:INCIDENT_CHARTS]:
        margin = max(INCIDENT_MARGIN, timedelta(seconds=suspension["duration_s"]))
        ended = suspension["ended_at"] or suspension["during"]["to"]
        window = MetricFilters(since=suspension["started_at"] - margin, until=ended + margin,
                               cohort=filters.cohort, bucket="hour")
        series = over_time(window)
        drawn.append(charts.queue_chart(
            series["queue_depth"], series["submissions_over_time"], "hour",
            metrics["suspensions"], metrics["token_anomalies"],
            title=f"Around the suspension of {suspension['started_at']:%d %b %Y %H:%M} UTC"))
    return drawn


def _checkpoint_url() -> str | None:
    try:
        return reverse("research-checkpoint-latest")
    except NoReverseMatch:
        return None


@login_required
@require_safe
@page_for(Role.RESEARCHER, Role.PROGRAM_ADMIN,
          message="This page is for researchers and program admins.")
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    studies = list(user.studies.order_by("slug")) if user.has_role(Role.RESEARCHER) else []
    form = DashboardFilters(request.GET or None, cohorts=cohorts_seen(), studies=studies)
    if request.GET and not form.is_valid():
        return render(request, "audit/dashboard.html", {"form": form}, status=400)
    values = form.cleaned_data if request.GET else {}
    # A researcher of several studies looks through the first until they pick another.
    study = values.get("study") or (studies[0].slug if len(studies) > 1 else None)
    try:
        scope = scope_for(user, study, program_admin_allowed=True)
        filters = metric_filters(since=values.get("since"), until=values.get("until"),
                                 cohort=values.get("cohort"))
    except (NoStudy, NotInStudy) as error:
        return render(request, "core/error.html", {"status": 403, "message": error.message},
                      status=403)
    except DomainError as error:
        for name, problems in (error.fields or {}).items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        return render(request, "audit/dashboard.html", {"form": form}, status=400)

    rollups.refresh_tail()
    metrics = metrics_overview(filters, scope)
    bucket = metrics["bucket"]
    query = {name: value for name, value in request.GET.items()
             if name in ("since", "until", "cohort", "study") and value}
    if study and "study" not in query:
        query["study"] = study
    return render(request, "audit/dashboard.html", {
        "form": form,
        "scope": scope,
        "metrics": metrics,
        "charts": {
            "approval": charts.approval_chart(metrics["approval_rate_over_time"], bucket,
                                              metrics["suspensions"],
                                              metrics["token_anomalies"]),
            "queue": charts.queue_chart(metrics["queue_depth"],
                                        metrics["submissions_over_time"], bucket,
                                        metrics["suspensions"], metrics["token_anomalies"]),
            "histogram": charts.histogram_chart(metrics["time_to_decision_histogram"]),
            "cohorts": charts.cohort_chart(metrics["by_cohort"]),
        },
        "incident_charts": _incident_charts(metrics, filters),
        "exports": _export_links(query, scope),
        "checkpoint": latest_checkpoint(),
        "checkpoint_url": _checkpoint_url(),
        "actions": all_actions(),
    })
