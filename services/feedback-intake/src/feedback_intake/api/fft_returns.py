"""Monthly FFT returns: upload a CSV (processed in the background), follow its progress."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from feedback_intake.api.deps import Reader, Writer
from feedback_intake.api.errors import BODY_ERRORS, ERRORS, problem
from feedback_intake.handlers import fft_returns
from feedback_intake.models import FftUpload
from feedback_intake.rules.fft_csv import FFT_CSV_COLUMNS, FFT_CSV_EXAMPLE
from feedback_intake.schemas import UploadPublic
from hub_shared import correlation
from hub_shared.db import Session, commit
from hub_shared.problems import Problem
from hub_shared.text import OneLine

router = APIRouter(prefix="/v1")


def upload_public(upload: FftUpload) -> UploadPublic:
    return UploadPublic.model_validate(upload, from_attributes=True)


@router.post(
    "/fft-returns/uploads",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **BODY_ERRORS,
        202: {"model": UploadPublic, "description": "Queued; follow `Location` for progress and the report"},
        415: problem("The body is not sent as `Content-Type: text/csv`"),
        422: problem("The header lacks a required column, or the file is not UTF-8; each is named in `errors`"),
    },
    tags=["fft returns"],
    summary="Upload a monthly FFT return (CSV, NHS England GP layout); processed in the background",
    description=FFT_CSV_COLUMNS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": FFT_CSV_EXAMPLE}},
        }
    },
)
async def upload_returns(
    request: Request,
    principal: Writer,
    session: Session,
    filename: Annotated[OneLine | None, Query(max_length=200)] = None,
) -> JSONResponse:
    if request.headers.get("content-type", "").split(";")[0].strip() not in ("text/csv", "application/csv"):
        raise Problem(415, "Unsupported media type", "Send the file as the body with Content-Type: text/csv.")
    upload = await fft_returns.receive_upload(
        session,
        request.stream(),
        submitted_by=principal.organisation,
        filename=filename,
        correlation_id=correlation.current(),
    )
    await commit(session)
    request.app.state.uploads.start(upload.id)
    location = f"/v1/fft-returns/uploads/{upload.id}"
    return JSONResponse(upload_public(upload).model_dump(mode="json"), status_code=202, headers={"Location": location})


@router.get(
    "/fft-returns/uploads/{upload_id}",
    responses=ERRORS,
    tags=["fft returns"],
    summary="An upload's progress and, when done, its result report",
)
async def upload_status(upload_id: uuid.UUID, principal: Reader, session: Session) -> UploadPublic:
    return upload_public(await fft_returns.get_upload(session, upload_id, principal=principal))
