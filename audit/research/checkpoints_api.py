"""``GET research/checkpoints/latest/``: the newest signed checkpoint of the sealed log, with the
public key that checks it (API.md "Research"; docs/verifying-the-log.md).

Researchers fetch it to check an export against it. The same checkpoints are appended to the
checkpoint log file outside the database, which is the copy meant for anyone else: publishing
that file needs no account here.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.research.access import research_permissions
from audit.sealing import checkpoint_document, latest_checkpoint
from core.api import errors
from core.errors import NotFound


class NoCheckpoint(NotFound):
    code = "research.no_checkpoint"
    default_message = "Nothing has been sealed yet, so there is no checkpoint."


class CheckpointOut(serializers.Serializer):
    seq = serializers.IntegerField(help_text="The last sequence number the checkpoint covers.")
    head_hash = serializers.CharField(help_text="Hex SHA-256 chain hash at that seq.")
    created_at = serializers.CharField(
        help_text="When the sealing run began, as signed: YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC).")
    signature = serializers.CharField(
        help_text='Hex Ed25519 signature of "early-access-checkpoint\\n<seq>\\n<head_hash>\\n'
                  '<created_at>" (UTF-8, no trailing newline).')
    key_id = serializers.CharField(
        help_text="First 16 hex digits of SHA-256 over the raw public key.")
    public_key = serializers.CharField(
        allow_null=True,
        help_text="Base64 of the raw 32-byte Ed25519 public key; null if the key that signed "
                  "it has been retired since.")


class LatestCheckpointApi(APIView):
    """The newest checkpoint: check an export's ``seq``, ``leaf_hash`` and ``hash`` columns
    against it with docs/verify_export.py."""

    permission_classes = research_permissions()

    @extend_schema(
        parameters=[OpenApiParameter(
            "study", str, description="Your study's slug, needed only if you have several "
                                      "(the checkpoint is the same for every study).")],
        responses={200: CheckpointOut, **errors(400, 401, 403, 404)})
    def get(self, request: Request) -> Response:
        checkpoint = latest_checkpoint()
        if checkpoint is None:
            raise NoCheckpoint()
        return Response(checkpoint_document(checkpoint))


urlpatterns = [
    path("checkpoints/latest/", LatestCheckpointApi.as_view(),
         name="research-checkpoint-latest"),
]
