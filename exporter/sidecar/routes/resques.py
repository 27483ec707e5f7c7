"""The configured Resques: the names every other path starts with."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import Caller, Service
from ..errors import ERRORS
from ..models.common import ResquesBody

router = APIRouter()


@router.get("", response_model=ResquesBody, responses=ERRORS, operation_id="list_resques")
def list_resques(caller: Caller, service: Service) -> ResquesBody:
    return ResquesBody(resques=service.names)
