"""``GET research/metrics/``: the approval gate's metrics (API.md "Research"), for researchers
(pseudonymous, per study) and program admins. Definitions: ``audit.research.metrics``."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.research import rollups
from audit.research.access import research_permissions
from audit.research.metrics import BUCKETS, metric_filters, metrics_overview
from core.api import errors


class MetricsQuery(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="ISO 8601; inclusive.")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601; exclusive.")
    cohort = serializers.SlugField(required=False, max_length=64,
                                   help_text="Only clips of this cohort's testers.")
    bucket = serializers.ChoiceField(choices=BUCKETS, required=False, default="auto",
                                     help_text="Time series buckets (auto: hours up to 14 "
                                               "days, else days).")


# --- The answer's shape, for the schema -------------------------------------------------------

def _nullable_float(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


class MetricsPercentilesOut(serializers.Serializer):
    n = serializers.IntegerField()
    p50 = _nullable_float()
    p90 = _nullable_float()
    p99 = _nullable_float()


class MetricsMedianAndP90Out(serializers.Serializer):
    p50 = _nullable_float()
    p90 = _nullable_float()


class MetricsSubmissionCountsOut(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField(),
                                      help_text="Clips created in the window, by status now.")


class MetricsCohortOut(serializers.Serializer):
    submissions = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    approval_rate = _nullable_float()
    time_to_decision_s = MetricsMedianAndP90Out()
    queue_wait_s = MetricsMedianAndP90Out()


class MetricsReviewTimeOut(serializers.Serializer):
    mean = _nullable_float()


class MetricsModeratorOut(serializers.Serializer):
    decisions = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    escalated = serializers.IntegerField()
    second_opinions = serializers.IntegerField()
    approval_rate = _nullable_float()
    review_s = MetricsReviewTimeOut(help_text="Seconds from claim to decision.")
    username = serializers.CharField(required=False,
                                     help_text="Only for studies granted identities.")


class MetricsAppealsOut(serializers.Serializer):
    count = serializers.IntegerField(help_text="Appeals made in the window.")
    overturned = serializers.IntegerField()
    upheld = serializers.IntegerField()
    overturn_rate = _nullable_float()


class MetricsAgreementCellOut(serializers.Serializer):
    first = serializers.CharField()
    second = serializers.CharField()
    n = serializers.IntegerField()


class MetricsAgreementOut(serializers.Serializer):
    pairs = serializers.IntegerField()
    observed = _nullable_float()
    expected = _nullable_float()
    kappa = _nullable_float(help_text="Cohen's kappa; null when chance agreement is 1.")
    table = MetricsAgreementCellOut(many=True)


class MetricsHistogramBinOut(serializers.Serializer):
    label = serializers.CharField()
    from_s = serializers.IntegerField()
    to_s = serializers.IntegerField(allow_null=True)
    n = serializers.IntegerField()


class MetricsDepthPointOut(serializers.Serializer):
    at = serializers.DateTimeField()
    depth = serializers.IntegerField()
    entered = serializers.IntegerField()
    exited = serializers.IntegerField()


class MetricsRatePointOut(serializers.Serializer):
    at = serializers.DateTimeField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rate = _nullable_float()


class MetricsCountPointOut(serializers.Serializer):
    at = serializers.DateTimeField()
    n = serializers.IntegerField()


class MetricsPeriodOut(serializers.Serializer):
    to = serializers.DateTimeField()
    submissions = serializers.IntegerField()
    entered_queue = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    approval_rate = _nullable_float()
    token_anomalies = serializers.IntegerField()

    def get_fields(self):
        # "from" is a Python keyword, so it cannot be a declared attribute.
        return {"from": serializers.DateTimeField(), **super().get_fields()}


class MetricsSuspensionOut(serializers.Serializer):
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="Null while it lasts.")
    duration_s = serializers.FloatField()
    reason = serializers.CharField(allow_null=True,
                                   help_text="Only for program admins and studies granted "
                                             "free text.")
    before = MetricsPeriodOut()
    during = MetricsPeriodOut()
    after = MetricsPeriodOut()


class MetricsAnomalyOut(serializers.Serializer):
    at = serializers.DateTimeField()
    token_owner = serializers.CharField(allow_null=True, help_text="A pseudonym.")
    facts = serializers.DictField(help_text="The event's numeric and yes/no fields.")


class MetricsAsOfOut(serializers.Serializer):
    through_event = serializers.IntegerField()
    refreshed_at = serializers.DateTimeField(allow_null=True)


class MetricsFiltersOut(serializers.Serializer):
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    cohort = serializers.CharField(allow_null=True)


class MetricsOut(serializers.Serializer):
    as_of = MetricsAsOfOut(help_text="The last event folded into the figures, and when.")
    filters = MetricsFiltersOut()
    submissions = MetricsSubmissionCountsOut()
    approval_rate = _nullable_float(help_text="Approvals over first verdicts in the window.")
    decisions = serializers.DictField(child=serializers.IntegerField())
    time_to_decision_s = MetricsPercentilesOut()
    time_to_decision_histogram = MetricsHistogramBinOut(many=True)
    queue_wait_s = MetricsPercentilesOut()
    by_cohort = serializers.DictField(child=MetricsCohortOut())
    by_moderator = serializers.DictField(child=MetricsModeratorOut(),
                                         help_text="Keyed by the moderator's pseudonym.")
    appeals = MetricsAppealsOut()
    agreement = MetricsAgreementOut()
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    queue_depth = MetricsDepthPointOut(many=True)
    approval_rate_over_time = MetricsRatePointOut(many=True)
    submissions_over_time = MetricsCountPointOut(many=True)
    suspensions = MetricsSuspensionOut(many=True)
    token_anomalies = MetricsAnomalyOut(many=True)


class MetricsApi(APIView):
    """The approval gate's metrics, current to within seconds (folded from the audit log)."""

    permission_classes = research_permissions(program_admins=True)

    @extend_schema(
        parameters=[MetricsQuery, OpenApiParameter(
            "study", str, description="Your study's slug (needed if you have several).")],
        responses={200: MetricsOut, **errors(400, 401, 403)})
    def get(self, request: Request) -> Response:
        query = MetricsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = metric_filters(**query.validated_data)
        rollups.refresh_tail()  # the last few seconds of the log, if the task has not yet
        return Response(metrics_overview(filters, request.research_scope))


urlpatterns = [
    path("metrics/", MetricsApi.as_view(), name="research-metrics"),
]
