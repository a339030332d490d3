"""The review API (API.md, "Review") and the tester's appeal."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import roles_required
from core import clock
from core.api import errors
from review import serializers as s
from review.models import Claim, Track
from review.permissions import REVIEWERS
from review.selectors import owner_history, queue_summary, reasons_active
from review.services.claims import claim_next, claim_release, claim_renew, claim_submission
from review.services.decisions import appeal_create, decision_record
from submissions.selectors import submission_visible_to
from submissions.serializers import DetailMessage, SubmissionOutput


def claim_data(request: Request, claim: Claim) -> dict:
    submission = claim_submission(claim)
    appeal = getattr(submission, "appeal", None)
    blind = claim.track == Track.SECOND_OPINION
    return {
        "id": claim.pk, "track": claim.track, "expires_at": claim.expires_at,
        "submission": SubmissionOutput(submission, context={"request": request,
                                                            "blind": blind}).data,
        "owner_history": owner_history(submission),
        "appeal_message": appeal.message if appeal and claim.track == Track.APPEAL else None,
    }


class ReasonListApi(APIView):
    permission_classes = REVIEWERS

    @extend_schema(responses={200: s.ReasonOutput(many=True), **errors(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(s.ReasonOutput(reasons_active(), many=True).data)


class QueueApi(APIView):
    permission_classes = REVIEWERS

    @extend_schema(responses={200: s.QueueOutput, **errors(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(s.QueueOutput(queue_summary(clock.now())).data)


class ClaimCreateApi(APIView):
    """Claim the next item you may review; 204 when there is none."""

    permission_classes = REVIEWERS

    @extend_schema(request=None, responses={201: s.ClaimOutput, 204: None, **errors(401, 403)})
    def post(self, request: Request) -> Response:
        claim = claim_next(actor=request.user)
        if claim is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(claim_data(request, claim), status=status.HTTP_201_CREATED)


class ClaimRenewApi(APIView):
    permission_classes = REVIEWERS

    @extend_schema(request=None, responses={200: s.RenewOutput, **errors(401, 403, 404, 409)})
    def post(self, request: Request, claim_id) -> Response:
        claim = claim_renew(actor=request.user, claim_id=claim_id)
        return Response({"expires_at": claim.expires_at})


class ClaimReleaseApi(APIView):
    permission_classes = REVIEWERS

    @extend_schema(request=None, responses={204: None, **errors(401, 403, 404, 409)})
    def post(self, request: Request, claim_id) -> Response:
        claim_release(actor=request.user, claim_id=claim_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClaimDecideApi(APIView):
    permission_classes = REVIEWERS

    @extend_schema(request=s.DecideInput,
                   responses={201: s.DecisionMadeOutput, **errors(400, 401, 403, 404, 409)})
    def post(self, request: Request, claim_id) -> Response:
        data = s.DecideInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = decision_record(actor=request.user, claim_id=claim_id, **data.validated_data)
        return Response(s.DecisionMadeOutput(decision).data, status=status.HTTP_201_CREATED)


class AppealApi(APIView):
    """Appeal a rejection, once, with a message to the moderators."""

    permission_classes = roles_required(Role.TESTER)

    @extend_schema(request=s.AppealInput,
                   responses={200: DetailMessage, **errors(400, 401, 403, 404, 409)})
    def post(self, request: Request, submission_id) -> Response:
        submission = submission_visible_to(request.user, submission_id)
        if submission is None or submission.owner_id != request.user.pk:
            raise Http404
        data = s.AppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal_create(actor=request.user, submission=submission,
                      message=data.validated_data["message"])
        return Response({"detail": "Appealed: the clip is back in the queue for another "
                                   "moderator.", "status": "pending_review"})
