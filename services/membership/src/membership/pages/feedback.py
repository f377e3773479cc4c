"""Feedback pages, one per practice and service: the Friends and Family Test question in NHS
England's words, why, optional demographics, and "I'd like to hear what changes" with an
email address (confirmed by double opt-in); and each page's printable A4 poster with its QR
code (segno). Short addresses: ``/f/P81001`` for a practice, ``/f/01A/musculoskeletal`` for
a service; the poster at ``/poster/P81001`` (and ``/poster/01A/musculoskeletal``).

Protection without a third-party CAPTCHA: the public forms' limit per client (the real
client behind a trusted proxy, ``hub_shared.web.public_limit``), a honeypot field people
never see (a form that fills it is thanked and dropped), size limits (the text's length,
and the body's, ``BodySizeLimit``), and a form id fresh in every page served, so a second
press is the same submission, as is the same feedback from the same client again within
minutes (``handlers/feedback_pages.py``)."""

import uuid
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from hub_shared import correlation
from hub_shared.events import AgeBand, EthnicGroup, FftAnswer, ServiceArea, Sex
from hub_shared.organisations import Kind, Organisation, reference
from hub_shared.references import grouped
from hub_shared.web import steady_timing
from membership.handlers import feedback_pages
from membership.links import links_of
from membership.pages.joining import AGE_NAMES
from membership.pages.rendering import AREA_NAMES, form_errors, options, render, sessions, too_many_requests
from membership.schemas import FEEDBACK_TEXT_LIMIT, FeedbackPageForm

router = APIRouter(include_in_schema=False)

HONEYPOT = "website"  # a field no person sees or fills
FFT_QUESTION = "Overall, how was your experience of our service?"  # NHS England's FFT question
FFT_NAMES = {
    "very_good": "Very good",
    "good": "Good",
    "neither_good_nor_poor": "Neither good nor poor",
    "poor": "Poor",
    "very_poor": "Very poor",
    "dont_know": "Don't know",
}
HEAR_BACK_WITHOUT_ADDRESS = "Enter your email address to hear what changes, or untick the box"
FIELDS = ("fft_answer", "text", "age_band", "sex", "ethnic_group", "hear_back", "email", "form_id")


def page_for(code: str, service: str | None) -> tuple[Organisation, ServiceArea] | None:
    """The organisation and service a page is about, or None for an address that is none."""
    organisation = reference().get(code.upper())
    if organisation is None or organisation.kind is Kind.ICB:
        return None
    if service is None:
        return (organisation, ServiceArea.GENERAL_PRACTICE) if organisation.kind is Kind.PRACTICE else None
    try:
        return organisation, ServiceArea(service)
    except ValueError:
        return None


def address(organisation: Organisation, service_area: ServiceArea) -> str:
    """The page's short path: a practice's own page needs no service."""
    if organisation.kind is Kind.PRACTICE and service_area is ServiceArea.GENERAL_PRACTICE:
        return f"/f/{organisation.code}"
    return f"/f/{organisation.code}/{service_area.value}"


def context(request: Request, organisation: Organisation, service_area: ServiceArea) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "service_name": AREA_NAMES.get(service_area.value, service_area.value),
        "practice_page": organisation.kind is Kind.PRACTICE and service_area is ServiceArea.GENERAL_PRACTICE,
        "action": address(organisation, service_area),
        "question": FFT_QUESTION,
        "answers": [(a.value, FFT_NAMES[a.value]) for a in FftAnswer],
        "ages": options(AgeBand, AGE_NAMES),
        "sexes": options(Sex),
        "ethnic_groups": [(e.value, e.label) for e in EthnicGroup],
        "text_limit": FEEDBACK_TEXT_LIMIT,
        "honeypot": HONEYPOT,
        "header_service": "Give feedback",
        "header_href": address(organisation, service_area),
    }


def not_found(request: Request) -> HTMLResponse:
    return render(request, "not_found.html", status_code=404)


async def feedback_page(request: Request, code: str, service: str | None) -> HTMLResponse:
    found = page_for(code, service)
    if found is None:
        return not_found(request)
    return render(
        request,
        "feedback.html",
        form={"form_id": str(uuid.uuid4())},
        errors={},
        **context(request, *found),
    )


async def feedback_submit(request: Request, code: str, service: str | None) -> Response:
    found = page_for(code, service)
    if found is None:
        return not_found(request)
    organisation, service_area = found
    if (limited := await too_many_requests(request)) is not None:
        return limited
    raw = await request.form()
    data = {k: str(raw.get(k) or "") for k in FIELDS}
    if str(raw.get(HONEYPOT) or "").strip():
        # Only a machine fills a field nobody can see: thanked like anyone, nothing kept or sent.
        return thanks(request, organisation, service_area, None)
    body = {
        "form_id": data["form_id"],
        "fft_answer": data["fft_answer"] or None,
        "text": data["text"].strip() or None,
        "age_band": data["age_band"] or None,
        "sex": data["sex"] or None,
        "ethnic_group": data["ethnic_group"] or None,
        "hear_back": data["hear_back"] == "yes",
        "email": data["email"].strip() or None,
    }
    errors: dict[str, str] = {}
    try:
        command = FeedbackPageForm.model_validate(body)
    except ValidationError as exc:
        errors = page_errors(exc)
    if body["hear_back"] and not body["email"]:  # said with the others, not after them
        errors.setdefault("email", HEAR_BACK_WITHOUT_ADDRESS)
    if errors:
        return render(
            request,
            "feedback.html",
            status_code=422,
            form={**data, "form_id": data["form_id"] or str(uuid.uuid4())},
            errors=errors,
            **context(request, organisation, service_area),
        )
    async with steady_timing(request):
        given = await give(request, command, organisation, service_area)
    return thanks(request, organisation, service_area, given.contact_token)


def thanks(
    request: Request, organisation: Organisation, service_area: ServiceArea, contact_token: str | None
) -> HTMLResponse:
    return render(
        request,
        "feedback_thanks.html",
        organisation=organisation,
        reference=grouped(contact_token) if contact_token else None,
        header_service="Give feedback",
        header_href=address(organisation, service_area),
    )


async def give(
    request: Request, command: FeedbackPageForm, organisation: Organisation, service_area: ServiceArea
) -> feedback_pages.Given:
    """Send it once; two presses at the same moment meet at the form's id, and the second is
    answered as the first."""
    for _ in range(2):
        async with sessions(request)() as session:
            try:
                given = await feedback_pages.give_feedback(
                    session,
                    command,
                    organisation_code=organisation.code,
                    service_area=service_area,
                    links=links_of(request),
                    page_links=request.app.state.page_links,
                    client=request.client.host if request.client else "unknown",
                    correlation_id=correlation.current(),
                )
                await session.commit()
                return given
            except IntegrityError:
                await session.rollback()
    raise RuntimeError("a feedback page's form could be neither sent nor found")


def page_errors(exc: ValidationError) -> dict[str, str]:
    """The form's errors in the words the page shows."""
    errors = form_errors(exc)
    wording = {
        "fft_answer": "Select how your experience of our service was overall",
        "form_id": "This form has expired: please fill it in again",
        "text": f"Your feedback must be {FEEDBACK_TEXT_LIMIT:,} characters or fewer",
        "age_band": "Select your age from the list, or leave it unanswered",
        "sex": "Select your sex from the list, or leave it unanswered",
        "ethnic_group": "Select your ethnic group from the list, or leave it unanswered",
    }
    for err in exc.errors(include_url=False):
        field = str(err["loc"][0]) if err.get("loc") else ""
        if not field and str(err.get("msg", "")).removeprefix("Value error, ").startswith("email:"):
            errors["email"] = HEAR_BACK_WITHOUT_ADDRESS
        elif field in wording and (field != "text" or err.get("type") in ("string_too_long", "too_long")):
            errors[field] = wording[field]
        elif field == "text":
            errors["text"] = "Your feedback must be ordinary text: remove any unusual characters"
    return errors


@router.get("/f/{code}", response_class=HTMLResponse)
async def practice_page(request: Request, code: str) -> HTMLResponse:
    return await feedback_page(request, code, None)


@router.post("/f/{code}", response_class=HTMLResponse)
async def practice_submit(request: Request, code: str) -> Response:
    return await feedback_submit(request, code, None)


@router.get("/f/{code}/{service}", response_class=HTMLResponse)
async def service_page(request: Request, code: str, service: str) -> HTMLResponse:
    return await feedback_page(request, code, service)


@router.post("/f/{code}/{service}", response_class=HTMLResponse)
async def service_submit(request: Request, code: str, service: str) -> Response:
    return await feedback_submit(request, code, service)


def poster(request: Request, code: str, service: str | None) -> HTMLResponse:
    found = page_for(code, service)
    if found is None:
        return not_found(request)
    organisation, service_area = found
    settings = request.app.state.settings
    url = f"{settings.public_base_url.rstrip('/')}{address(organisation, service_area)}"
    qr = segno.make(url, error="m")
    return render(
        request,
        "poster.html",
        url=url,
        shown_url=url.split("://", 1)[-1],
        qr_svg=qr.svg_inline(scale=1, omitsize=True, title=f"QR code for {url}", svgclass="poster-qr"),
        **context(request, organisation, service_area),
    )


@router.get("/poster/{code}", response_class=HTMLResponse)
async def practice_poster(request: Request, code: str) -> HTMLResponse:
    return poster(request, code, None)


@router.get("/poster/{code}/{service}", response_class=HTMLResponse)
async def service_poster(request: Request, code: str, service: str) -> HTMLResponse:
    return poster(request, code, service)
