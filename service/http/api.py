"""flask-smorest glue: the Api and Blueprint classes, the JSON body parser, OpenAPI extras.

* :class:`Api` replaces flask-smorest's plain-JSON error handler with :mod:`service.http.problems`
  and
  documents every error response as ``application/problem+json`` under names that do not
  depend on the Python version (``http.HTTPStatus(422).name`` changed in Python 3.13).
* :class:`Blueprint` parses bodies with :class:`JSONBodyParser`: 415 for a non-JSON content
  type, 400 for an empty or malformed body, and 422 problems for schema errors.
* :class:`StrictJSONProvider` never writes ``NaN`` (not JSON) into a response.
* :class:`Blueprint` also declares each operation's ``operationId`` and links with its route,
  and :meth:`Blueprint.problems` its problem responses: the document comes from the schemas
  and the route declarations, with nothing patched in afterwards.
* :func:`register_openapi_extras` teaches apispec the custom fields (the reliability union as
  ``oneOf``, exclusive bounds, the configured list limits as ``maxItems``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, NoReturn, TypeVar

import flask_smorest
import marshmallow as ma
from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from flask_smorest.spec.plugins import integerconverter2paramschema
from flask_smorest.utils import prepare_response, resolve_schema_instance
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from service.http.links import operation_id, response_links
from service.http.problems import (
    PROBLEM_MIMETYPE,
    MalformedJSON,
    NotJSON,
    ProblemSchema,
    phrase,
    register_error_handlers,
)
from service.http.schemas.base import ConfiguredMaxItems
from service.http.schemas.fields import GRADE_CHOICES, Reliability

__all__ = [
    "ERROR_RESPONSES",
    "MAX_ID",
    "Api",
    "Blueprint",
    "IdConverter",
    "JSONBodyParser",
    "StrictJSONProvider",
    "compose",
    "response_name",
    "register_openapi_extras",
]

#: When each error status is answered: the description of its component response, which is named
#: after the status phrase (:func:`response_name`).
ERROR_RESPONSES: Final[dict[int, str]] = {
    400: "The body is empty or not valid JSON.",
    401: (
        "No API key, or one that is unknown or revoked: send Authorization: Bearer <key> (the "
        "response carries WWW-Authenticate: Bearer)."
    ),
    404: "No such resource.",
    405: "The method is not allowed; see the Allow header.",
    406: "No representation matches the Accept header (or the format asked for).",
    413: "The body is larger than MAX_CONTENT_LENGTH bytes.",
    409: "The request contradicts what is stored (a duplicate id, a retracted claim).",
    412: (
        "If-Match names a version that is no longer current; the response's ETag is the current "
        "one."
    ),
    414: "The request target (path and query string) is longer than MAX_URI_LENGTH bytes.",
    415: "The body is not sent as application/json.",
    422: (
        "The body does not match the schema, or the statistical core refused it; `errors` maps "
        "each bad field's dotted path to its messages."
    ),
    428: "A change to an existing resource was sent without If-Match.",
    431: (
        "More header fields than MAX_HEADER_FIELDS, or a header section larger than "
        "MAX_HEADER_BYTES bytes."
    ),
    429: (
        "This API key has used up its writes for now (WRITE_RATE_LIMIT); Retry-After says in how "
        "many seconds to try again."
    ),
    500: "Unexpected server error (logged; no details are returned).",
    503: "The database cannot be reached.",
}
#: Component names that say more than the status phrase.
_RESPONSE_NAMES: Final = {400: "MalformedJSON", 422: "ValidationError"}
DEFAULT_ERROR: Final = "DefaultError"


def response_name(status: int) -> str:
    """The name of the component response of error ``status``: its phrase in CamelCase
    (``URITooLong``), fixed whatever the Python version (``http.HTTPStatus(422).name`` changed
    in 3.13)."""
    return _RESPONSE_NAMES.get(status) or phrase(status).replace(" ", "")


#: Largest id a path may name: PostgreSQL's INTEGER, the type of every id column. A larger
#: number matches no route (404) instead of overflowing the database driver (a 500 before).
MAX_ID: Final = 2**31 - 1

F = TypeVar("F", bound=Callable[..., Any])


def compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """The decorators as one, applied as if stacked in this order (the first outermost)."""

    def decorator(func: F) -> F:
        for decorate in reversed(decorators):
            func = decorate(func)
        return func

    return decorator


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing NaN and infinities instead of emitting invalid JSON."""

    sort_keys = False  # keep the documented field order

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() builds the object in C; only when it came out shorter than the pairs (a key
    # repeated) are they walked again, to name the first repeat.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedJSON(
                    f"The request body is not valid JSON: duplicate key {key!r}.")
            seen.add(key)
    return result


class JSONBodyParser(FlaskParser):
    """webargs parser that answers bad bodies with problems instead of webargs' defaults.

    The JSON literals ``NaN`` and ``Infinity`` (and overflowing numbers such as ``1e400``) are
    parsed, as Python's ``json`` does, so that the schema can refuse them naming the field.
    A duplicate key is refused: which of the two values counts would otherwise be a guess.
    """

    def _raw_load_json(self, req: Request) -> Any:
        if not req.mimetype or not _is_json_mimetype(req.mimetype):
            shown = req.mimetype or "no Content-Type"
            raise NotJSON(f"Send the body as application/json; got {shown}.")
        raw = req.get_data(cache=True)
        if not raw.strip():
            raise MalformedJSON("The request body is empty; expected a JSON object.")
        try:
            return json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise MalformedJSON(
                f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                f"column {exc.colno}."
            ) from None
        except UnicodeDecodeError:
            raise MalformedJSON("The request body is not valid UTF-8.") from None
        except (ValueError, RecursionError) as exc:
            # int() refuses integer literals of more than 4300 digits with a ValueError, and a
            # deeply nested body exhausts the recursion limit: both are the client's doing.
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise MalformedJSON(f"The request body cannot be parsed: {reason}.") from None

    def _handle_invalid_json_error(self, error: Exception, req: Request, *args: Any,
                                   **kwargs: Any) -> NoReturn:
        # Unreachable with _raw_load_json above; kept so webargs never answers on its own.
        raise MalformedJSON("The request body is not valid JSON.")


def _is_json_mimetype(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest Blueprint with the strict JSON parser and stable error references."""

    ARGUMENTS_PARSER = JSONBodyParser()

    # flask-smorest is untyped; these typed pass-throughs keep views type-checked.
    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """As flask-smorest's ``route``, declaring the operation's id and links as well.

        The ``operationId`` is the view function's name in lowerCamelCase; the links are those
        :data:`service.http.links.LINKS` gives for that id.
        """
        register: Callable[[F], F] = super().route(rule, **options)

        def decorator(func: F) -> F:
            operation = operation_id(func.__name__)
            extra: dict[str, Any] = {"operationId": operation}
            if links := response_links(operation):
                extra["responses"] = links
            # Any request can be refused for its size before the view runs (MAX_URI_LENGTH,
            # MAX_HEADER_FIELDS, MAX_HEADER_BYTES).
            return register(self.problems(414, 431)(self.doc(**extra)(func)))

        return decorator

    def response(self, status_code: int, schema: Any = None, **kwargs: Any) -> Callable[[F], F]:
        """As flask-smorest's ``response``."""
        decorator: Callable[[F], F] = super().response(status_code, schema, **kwargs)
        return decorator

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[[F], F]:
        """As flask-smorest's, but the 422 it documents refers to our problem response.

        A schema class is instantiated once, here: webargs would otherwise build a new instance
        (deep-copying every declared field, and the nested schemas again on first use) for each
        request. Schemas keep no state between loads, so one instance serves every request.
        """
        decorate = super().arguments(resolve_schema_instance(schema), **kwargs)

        def decorator(func: F) -> F:
            wrapped: F = decorate(func)
            responses = getattr(wrapped, "_apidoc")["arguments"]["responses"]  # noqa: B009
            for status in list(responses):
                responses[status] = response_name(int(status))
            return wrapped

        return decorator

    def doc(self, **kwargs: Any) -> Callable[[F], F]:
        """As flask-smorest's ``doc`` (extra OpenAPI members: security, parameters)."""
        decorator: Callable[[F], F] = super().doc(**kwargs)
        return decorator

    def computes(self, body: Any, out: Any) -> Callable[[F], F]:
        """A computation on a JSON ``body``, answered through ``out``; nothing is stored.

        Its problems: a body that is not JSON (400), too large (413) or of another media type
        (415); the schema's 422 comes with :meth:`arguments`; 500.
        """
        return compose(
            self.arguments(body), self.response(200, out), self.problems(400, 413, 415, 500)
        )

    def problems(self, *statuses: int) -> Callable[[F], F]:
        """Document the problem responses ``statuses`` of a view.

        Only the document changes: flask-smorest's ``alt_response`` writes it on a wrapper that
        does nothing but call the view (through ``ensure_sync``, about 2.5 µs a request), so
        the view keeps the wrapper's document and goes unwrapped.
        """

        def decorator(func: F) -> F:
            for status in statuses:
                documented = self.alt_response(status, response_name(status))(func)
                func.__dict__["_apidoc"] = documented.__dict__["_apidoc"]
            return func

        return decorator


class IdConverter(IntegerConverter):
    """Werkzeug's ``int`` converter, bounded to ids the database can hold (:data:`MAX_ID`)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        # 404 outright: werkzeug's ValidationError would only skip this rule, and a sibling
        # rule of another method would then answer 405 naming methods that 404 too.
        # The length first: int() refuses strings of more than 4,300 digits (a 500 otherwise).
        if self.max is not None and value and (
            len(value.lstrip("0")) > len(str(self.max)) or int(value) > self.max
        ):
            raise NotFound()
        return super().to_python(value)


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest Api whose errors are RFC 9457 problems, in the app and in the document.

    ``<int:...>`` path segments use :class:`IdConverter`, documented with their bounds.
    """

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = DEFAULT_ERROR

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        app.url_map.converters["int"] = IdConverter
        super().init_app(app, *args, **kwargs)
        self.register_converter(IdConverter, integerconverter2paramschema)

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def _register_responses(self) -> None:
        def register(name: str, description: str) -> None:
            response: dict[str, Any] = {"description": description, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(name, response, lazy=True)

        for status, description in ERROR_RESPONSES.items():
            register(response_name(status), f"{phrase(status)}: {description}")
        register(DEFAULT_ERROR, "Any other error, as an RFC 9457 problem document.")


# --- OpenAPI extras ---------------------------------------------------------------------------


def _reliability_oneof(self: Any, field: ma.fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: the reliability union as ``oneOf`` grade / number."""
    if not isinstance(field, Reliability):
        return {}
    return {
        "oneOf": [
            {"type": "string", "enum": list(GRADE_CHOICES), "description": "Admiralty grade."},
            {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "exclusiveMinimum": True,
                "exclusiveMaximum": True,
                "description": "Credibility strictly between 0 and 1.",
            },
        ]
    }


def _exclusive_bounds(self: Any, field: ma.fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: OpenAPI 3.0 ``exclusiveMinimum``/``exclusiveMaximum`` flags.

    apispec writes a Range's bounds but not whether they are inclusive, so ``levels`` in (0, 1)
    would read as [0, 1].
    """
    result: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                result["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                result["exclusiveMaximum"] = True
    return result


def register_openapi_extras(api: Api, app: Flask) -> None:
    """Register the attribute functions above with ``api``'s marshmallow plugin, and one that
    writes the configured limit of a list (MAX_SOURCES, MAX_CLAIMS) as its ``maxItems``.

    The list validators read their limit per request
    (:class:`service.http.schemas.base.ConfiguredMaxItems`); the document says the same for
    the app it describes.
    """

    def configured_max_items(
        self: Any, field: ma.fields.Field[Any], **kwargs: Any
    ) -> dict[str, Any]:
        for validator in field.validators:
            if isinstance(validator, ConfiguredMaxItems):
                return {"maxItems": int(app.config[validator.setting])}
        return {}

    converter = api.ma_plugin.converter
    converter.add_attribute_function(_reliability_oneof)
    converter.add_attribute_function(_exclusive_bounds)
    converter.add_attribute_function(configured_max_items)


