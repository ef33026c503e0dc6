"""The study web app (FastAPI, server-rendered pages, a little JavaScript for keys and swipes).

A thin shell over :class:`~synthdiff.study._service.StudyService`: it reads forms and cookies, checks
CSRF tokens, and turns the service's errors into HTTP status codes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from synthdiff.errors import InvalidArgumentError
from synthdiff.study._db import Database
from synthdiff.study._export import export_documents
from synthdiff.study._models import Participant
from synthdiff.study._pairs import IMAGE_TYPES
from synthdiff.study._security import csrf_token, csrf_valid
from synthdiff.study._service import ForbiddenError, NotLoggedInError, StudyRequestError, StudyService

__all__ = ["MAX_BODY_BYTES", "create_app"]

# Row ids are 32-bit integers in PostgreSQL, 64-bit in SQLite: a larger id in a request is refused as
# malformed (400) instead of reaching the database, which raised an overflow (500).
_MAX_ID = 2**31 - 1

SESSION_COOKIE = "synthdiff_session"
CSRF_COOKIE = "synthdiff_csrf"
MAX_BODY_BYTES = 16 * 1024
_HERE = Path(__file__).parent
_EXPORTS = {
    "answers.csv": "text/csv",
    "answers.json": "application/json",
    "aggregates.csv": "text/csv",
    "aggregates.json": "application/json",
    "scale.csv": "text/csv",
}
_SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


class HeadersAndNonce:
    """Security headers on every response, and the browser's CSRF nonce (set as a cookie when new).

    Pure ASGI (Starlette's ``BaseHTTPMiddleware`` costs about a millisecond a request).
    """

    def __init__(self, app: ASGIApp, secure_cookies: bool) -> None:
        self.app, self.secure_cookies = app, secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = Request(scope).cookies.get(CSRF_COOKIE)
        fresh = not nonce or len(nonce) > 128
        if fresh:
            nonce = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_nonce"] = nonce
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Time spent in the app (the load test separates it from network and client time).
                headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - started):.1f}"
                for name, value in _SECURITY_HEADERS:
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if fresh:
                    cookie = f"{CSRF_COOKIE}={nonce}; HttpOnly; Path=/; SameSite=strict"
                    headers.append("set-cookie", cookie + ("; Secure" if self.secure_cookies else ""))
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(database_url: str, *, secure_cookies: bool = False) -> FastAPI:
    """The study's ASGI app.

    Args:
        database_url: the database ``synthdiff study init`` created (migrated to the newest schema here).
        secure_cookies: mark cookies ``Secure`` (serve over HTTPS, for example behind a proxy).
    """
    database = Database(database_url)
    database.require_schema()
    database.migrate()
    service = StudyService(database)
    study = service.study()
    images_root = Path(study.images_root).resolve()
    templates = Jinja2Templates(directory=str(_HERE / "templates"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    # max_body_size: FastAPI answers 413 to larger bodies, declared or streamed.
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        debug=False,
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.service = service
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.add_middleware(HeadersAndNonce, secure_cookies=secure_cookies)

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("participant", None)
        return templates.TemplateResponse(
            request,
            template,
            {
                "study": study,
                "csrf_token": csrf_token(service.secret_key, request.state.csrf_nonce),
                **context,
            },
            status_code=status_code,
        )

    def participant_or_none(request: Request) -> Participant | None:
        return service.session_participant(request.cookies.get(SESSION_COOKIE))

    def participant(request: Request) -> Participant:
        person = participant_or_none(request)
        if person is None:
            raise NotLoggedInError("Please log in first.")
        return person

    def admin(person: Participant = Depends(participant)) -> Participant:  # noqa: B008
        if not person.is_admin:
            raise ForbiddenError("This page is for the study's administrator.")
        return person

    def csrf(request: Request, csrf_token: str = Form("")) -> None:
        if not csrf_valid(service.secret_key, request.cookies.get(CSRF_COOKIE), csrf_token):
            raise ForbiddenError(
                "The form's security token did not match (an old or forged form). "
                "Reload the page and try again."
            )

    @app.exception_handler(StudyRequestError)
    def study_error(request: Request, error: StudyRequestError) -> Response:
        if isinstance(error, NotLoggedInError) and request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return page(request, "message.html", status_code=error.status, message=str(error))

    @app.exception_handler(InvalidArgumentError)
    def invalid(request: Request, error: InvalidArgumentError) -> Response:
        return page(request, "message.html", status_code=400, message=str(error))

    # A browser gets the app's own page, not FastAPI's JSON, for a malformed form or an unknown address.
    @app.exception_handler(RequestValidationError)
    def malformed(request: Request, error: RequestValidationError) -> Response:
        return page(
            request,
            "message.html",
            status_code=400,
            message="The form or address was incomplete or malformed. Go back, reload the page and try "
            "again.",
        )

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "There is no page at this address." if error.status_code == 404 else str(error.detail)
        response = page(request, "message.html", status_code=error.status_code, message=message)
        response.headers.update(error.headers or {})
        return response

    def logged_in(token: str, target: str) -> Response:
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies, max_age=7 * 24 * 3600
        )
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        person = participant_or_none(request)
        if person is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/admin" if person.is_admin else "/next", status_code=303)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/signup", response_class=HTMLResponse)
    def signup_form(request: Request) -> Response:
        return page(request, "signup.html", invitation_required=service.study().invitation_required)

    @app.post("/signup", dependencies=[Depends(csrf)])
    def signup(
        request: Request, username: str = Form(""), password: str = Form(""), invitation: str = Form("")
    ) -> Response:
        try:
            token = service.signup(username.strip(), password, invitation)
        except (InvalidArgumentError, StudyRequestError) as error:
            status = getattr(error, "status", 400)
            return page(
                request,
                "signup.html",
                status_code=status,
                error=str(error),
                username=username,
                invitation_required=service.study().invitation_required,
            )
        return logged_in(token, "/next")

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login", dependencies=[Depends(csrf)])
    def login(request: Request, username: str = Form(""), password: str = Form("")) -> Response:
        address = request.client.host if request.client else "unknown"
        try:
            token = service.login(username.strip(), password, address)
        except StudyRequestError as error:
            return page(request, "login.html", status_code=error.status, error=str(error), username=username)
        person = service.session_participant(token)
        return logged_in(token, "/admin" if person is not None and person.is_admin else "/next")

    @app.post("/logout", dependencies=[Depends(csrf)])
    def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            service.logout(token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/next", response_class=HTMLResponse)
    def next_pair(request: Request, person: Participant = Depends(participant)) -> Response:  # noqa: B008
        if person.is_admin:
            return RedirectResponse("/admin", status_code=303)
        assignment = service.next_assignment(person)
        answered, points = service.participant_progress(person)
        completion = service.completion()
        if assignment is None:
            return page(request, "done.html", participant=person, answered=answered, points=points)
        return page(
            request,
            "answer.html",
            participant=person,
            assignment=assignment,
            answered=answered,
            points=points,
            completion=completion,
        )

    @app.post("/answer", dependencies=[Depends(csrf)])
    def answer(
        request: Request,
        assignment_id: int = Form(..., ge=1, le=_MAX_ID),
        choice: str = Form(""),
        person: Participant = Depends(participant),  # noqa: B008
    ) -> Response:
        service.submit_answer(person, assignment_id, choice)
        return RedirectResponse("/next", status_code=303)

    @app.get("/assignments/{assignment_id}/{slot}")
    def image(
        slot: str,
        assignment_id: int = PathParameter(..., ge=1, le=_MAX_ID),
        person: Participant = Depends(participant),  # noqa: B008
    ) -> Response:
        stored = service.image_path(person, assignment_id, slot)
        path = (images_root / stored).resolve()
        # The stored path was checked at init; a symlink or a moved root must not escape it either.
        if not path.is_relative_to(images_root) or not path.is_file():
            raise ForbiddenError("This image is not available.")
        return FileResponse(
            path,
            media_type=IMAGE_TYPES.get(path.suffix.lower()),
            headers={"Cache-Control": "private, max-age=600"},
        )

    @app.get("/leaderboard", response_class=HTMLResponse)
    def leaderboard(request: Request, person: Participant = Depends(participant)) -> Response:  # noqa: B008
        return page(request, "leaderboard.html", participant=person, board=service.leaderboard())

    @app.get("/admin", response_class=HTMLResponse)
    def admin_page(request: Request, person: Participant = Depends(admin)) -> Response:  # noqa: B008
        progress = service.progress()
        return page(
            request,
            "admin.html",
            participant=person,
            progress=progress,
            people=service.participant_stats(),
            exports=[name for name in _EXPORTS if name != "scale.csv" or service.study().question == "2afc"],
        )

    @app.post("/admin/participants/{participant_id}", dependencies=[Depends(csrf)])
    def exclude(
        participant_id: int = PathParameter(..., ge=1, le=_MAX_ID),
        excluded: str = Form(...),
        person: Participant = Depends(admin),  # noqa: B008
    ) -> Response:
        service.set_excluded(participant_id, excluded == "1")
        return RedirectResponse("/admin", status_code=303)

    @app.get("/admin/export/{name}")
    def export(name: str, include_flagged: bool = False, person: Participant = Depends(admin)) -> Response:  # noqa: B008
        # An unknown name is refused before the aggregates and their bootstrap intervals are computed.
        documents = (
            export_documents(database, include_flagged=include_flagged, resamples=500)
            if name in _EXPORTS
            else {}
        )
        if name not in documents:
            names = documents or _EXPORTS
            raise StudyRequestError(f"Expected an export among {', '.join(names)}, got {name!r}.")
        return Response(
            documents[name],
            media_type=_EXPORTS[name],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return app
