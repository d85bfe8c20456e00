"""The FastAPI application that serves one modahub app.

Endpoints: ``POST /encode``, ``/index``, ``/search``, ``/generate`` (JSON documents) and
``POST /upload/{index|search|encode}`` (media files, multipart); ``GET /health`` (alive),
``/ready`` (warmed up and not shutting down), ``/info`` (the app), ``/openapi.json``.
Work runs on one worker thread behind a bounded queue: when it is full the answer is 503 with
``Retry-After``. Malformed requests get 422 with field-level errors. On shutdown, accepted work
finishes, then the index is saved.
"""

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from modahub import modalities
from modahub.executors import ExecutorError, Match
from modahub.pipeline import App, PipelineError
from modahub.pipeline.runner import persist
from modahub.pipeline.steps import brief
from modahub_hub.appfile import serve_limits
from modahub_hub.inputs import InputError, document_from_file
from modahub_hub.serve.admission import Admission, BodyLimit, Refused
from modahub_hub.serve.queue import Unavailable, WorkQueue
from modahub_hub.serve.schemas import (
    EncodeResponse,
    GenerateResponse,
    IndexResponse,
    Problem,
    SearchResponse,
    app_models,
)

DEFAULT_QUEUE = 64


def _fields(body: object) -> Any:
    """A request body of a model built at run time for the app's modalities (mypy cannot see its fields)."""
    return body
_ERRORS: dict[int | str, dict[str, Any]] = {413: {"model": Problem, "description": "request body over serve.max_request_bytes"},
           422: {"model": Problem, "description": "malformed request or over a limit (field-level errors)"},
           503: {"model": Problem, "description": "queue full, warming up or shutting down; retry"}}


def _json(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def _problem(status: int, loc: list[str | int], msg: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]}, status_code=status, headers=headers)


class _State:
    """What the endpoints share: the app, the queue, readiness."""

    def __init__(self, app: App, capacity: int) -> None:
        self.app = app
        self.queue = WorkQueue(capacity)
        self.ready = False
        self.error: str | None = None

    async def work(self, loc: list[str | int], fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` on the worker; user errors become 422, a full queue 503."""
        if self.error is not None:
            raise _HTTPProblem(_problem(503, [], f"the app failed to warm up: {self.error}"))
        try:
            return await self.queue.run(fn, *args)
        except Unavailable as exc:
            raise _HTTPProblem(_problem(503, [], str(exc), **{"Retry-After": "1"})) from None
        except Refused as exc:
            raise _HTTPProblem(_problem(exc.status, exc.loc, exc.msg)) from None
        except (ExecutorError, PipelineError, InputError) as exc:
            raise _HTTPProblem(_problem(422, loc, brief(str(exc), 1000))) from None


class _HTTPProblem(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def create_app(app: App, *, queue: int = DEFAULT_QUEUE) -> FastAPI:
    """A FastAPI application serving ``app`` with a queue of ``queue`` requests.

    Requests are bounded by the app file's ``serve`` settings (:class:`~modahub_hub.appfile.ServeSpec`).
    """
    state = _State(app, queue)
    limits = serve_limits(app)
    admission = Admission(app, limits)
    known = {name: m.payload for name, m in modalities.known().items()}
    models = app_models(app.describe()["modalities"], known, limits)
    DocsRequest, SearchRequest, GenerateRequest = models.DocsRequest, models.SearchRequest, models.GenerateRequest  # noqa: N806

    def warm_up() -> None:
        try:
            app.warm_up()
        except Exception as exc:  # reported by /ready, not fatal for the process
            state.error = f"{type(exc).__name__}: {exc}"
            return
        api.openapi()  # built once here (a second or two for many modalities), cached for /openapi.json
        state.ready = True

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warming = state.queue.submit(warm_up)
        yield
        state.ready = False
        await asyncio.to_thread(state.queue.close)  # accepted work finishes first
        await warming
        index = app.indexer()
        if index is not None and state.error is None:
            persist(index)

    api = FastAPI(title=f"modahub app {app.name}", version="1", lifespan=lifespan, separate_input_output_schemas=False,
                  description="Encode, index, search and generate multimodal documents.")
    api.state.modahub = state
    api.add_middleware(BodyLimit, limit=limits.max_request_bytes)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": _body_loc(e["loc"], known), "msg": brief(e["msg"], 1000), "type": e["type"]}
                  for e in exc.errors()[:20]]
        return JSONResponse({"detail": errors}, status_code=422)

    @api.exception_handler(_HTTPProblem)
    async def _problem_handler(_: Request, exc: _HTTPProblem) -> Response:
        return exc.response

    @api.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused) -> Response:
        return _problem(exc.status, exc.loc, exc.msg)

    @api.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/ready", summary="Readiness: executors warmed up and not shutting down", responses=_ERRORS)
    async def ready() -> JSONResponse:
        if state.error is not None:
            return JSONResponse({"status": "failed", "error": state.error}, status_code=503)
        if not state.ready or state.queue.closed:
            return JSONResponse({"status": "shutting down" if state.queue.closed else "warming up"}, status_code=503)
        return JSONResponse({"status": "ready", "pending": state.queue.pending, "capacity": state.queue.capacity})

    @api.get("/info", summary="The app: name, space, dim, modalities, pipelines")
    async def info() -> dict[str, Any]:
        return app.describe()

    def encode_docs(docs: list[Any], loc: list[str | int]) -> EncodeResponse:
        docs = admission.documents(docs, loc)
        space, dim = app.space
        return EncodeResponse(ids=[d.id for d in docs], space=space, dim=dim, embeddings=app.encode(docs))

    def index_docs(docs: list[Any], loc: list[str | int]) -> IndexResponse:
        result = app.index(admission.documents(docs, loc))
        return IndexResponse(indexed=[d.id for d in result.documents], index_size=len(app.indexer()))

    def search_docs(queries: list[Any], loc: list[str | int], k: int, flt: Any, documents: bool) -> SearchResponse:
        result = app.search(admission.documents(queries, loc), k=k, filter=flt)
        if not documents:
            return SearchResponse(results=[[Match(m.id, m.score) for m in hits] for hits in result.matches])
        return SearchResponse(results=result.matches)

    def generate_docs(body: Any) -> GenerateResponse:
        result = app.generate(body.prompts, n=body.n, seed=body.seed, generator=body.generator)
        indexed = app.spec.index is not None and any(d.embedding is not None for d in result.documents)
        return GenerateResponse(documents=result.documents, indexed=indexed)

    @api.post("/encode", response_model=EncodeResponse, responses=_ERRORS, summary="Embed documents")
    async def encode(body: DocsRequest) -> Response:  # type: ignore[valid-type]
        loc: list[str | int] = ["body", "docs"]
        return _json(await state.work(loc, encode_docs, _fields(body).docs, loc))

    @api.post("/index", response_model=IndexResponse, responses=_ERRORS, summary="Encode and add documents to the index")
    async def index(body: DocsRequest) -> Response:  # type: ignore[valid-type]
        _require_index(app)
        loc: list[str | int] = ["body", "docs"]
        return _json(await state.work(loc, index_docs, _fields(body).docs, loc))

    @api.post("/search", response_model=models.SearchResponse, responses=_ERRORS, summary="Nearest documents to each query")
    async def search(body: SearchRequest) -> Response:  # type: ignore[valid-type]
        _require_index(app)
        loc: list[str | int] = ["body", "queries"]
        query = _fields(body)
        return _json(await state.work(loc, search_docs, query.queries, loc, query.k, query.filter, query.documents))

    @api.post("/generate", response_model=models.GenerateResponse, responses=_ERRORS,
              summary="Generate (and index) documents")
    async def generate(body: GenerateRequest) -> Response:  # type: ignore[valid-type]
        admission.count(len(_fields(body).prompts) * _fields(body).n, ["body", "n"], "documents to generate (prompts × n)")
        return _json(await state.work(["body"], generate_docs, body))

    @api.post("/upload/{shape}", responses=_ERRORS, summary="Encode, index or search with uploaded media files")
    async def upload(
        shape: Literal["encode", "index", "search"],
        files: Annotated[list[UploadFile], File(description="image, audio, text … files; modality from the extension")],
        modality: Annotated[str | None, Form(max_length=64, description="force a modality instead of guessing it")] = None,
        k: Annotated[int, Form(ge=1, le=1000)] = 10,
    ) -> Response:
        if shape != "encode":
            _require_index(app)
        admission.count(len(files), ["body", "files"], "files")

        def handle() -> BaseModel:
            loc: list[str | int] = ["body", "files"]
            docs = _documents_from_uploads(files, modality, admission)
            if shape == "encode":
                return encode_docs(docs, loc)
            return index_docs(docs, loc) if shape == "index" else search_docs(docs, loc, k, None, True)

        return _json(await state.work(["body", "files"], handle))

    return api


def _body_loc(loc: Any, modality_names: Any) -> list[str | int]:
    """The error's place in the body: without the modality that pydantic inserts after a document's index."""
    out = list(loc)
    return [p for i, p in enumerate(out) if not (i and isinstance(out[i - 1], int) and p in modality_names)]


def _require_index(app: App) -> None:
    if app.spec.index is None:
        raise _HTTPProblem(_problem(404, ["path"], f"app {app.name!r} has no index"))


def _documents_from_uploads(files: list[UploadFile], modality: str | None, admission: Admission) -> list[Any]:
    """Documents read from uploaded files through a private temporary folder (removed after).

    The multipart parser has spooled each file to disk already, under the request's byte limit;
    here each is copied in chunks, never held whole in memory.
    """
    with tempfile.TemporaryDirectory(prefix="modahub-upload-") as tmp:
        docs = []
        for i, upload in enumerate(files):
            name = Path(upload.filename or f"upload-{i}").name or f"upload-{i}"
            path = Path(tmp) / f"{i}-{name}"
            with path.open("wb") as out:
                upload.file.seek(0)
                shutil.copyfileobj(upload.file, out, 2**20)
            try:
                doc = document_from_file(path, modality=modality, doc_id=name)
            except InputError as exc:
                reason = str(exc).replace(str(path), name)
                raise Refused(422, ["body", "files", i], brief(reason, 500)) from None
            admission.sizes(doc, ["body", "files", i])
            docs.append(doc.model_copy(update={"payload": doc.payload.model_copy(update={"uri": None}),
                                               "tags": {"source": doc.id}}))
        return docs
