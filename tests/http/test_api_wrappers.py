"""What a view's problem responses cost per request: nothing. :meth:`Blueprint.problems`
documents them without wrapping the view (flask-smorest's ``alt_response`` wrapper only calls
it), and the document still lists every one of them."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.http.api import response_name


def _wrappers(view: Any) -> list[str]:
    """Qualified names of the wrappers around ``view``, outermost first."""
    names = []
    while hasattr(view, "__wrapped__"):
        names.append(view.__code__.co_qualname)
        view = view.__wrapped__
    return names


def test_documented_problems_add_no_wrapper_to_the_view(app: Flask) -> None:
    for endpoint in ("reconcile.post_reconcile", "health.healthz"):
        wrappers = _wrappers(app.view_functions[endpoint])
        assert wrappers, endpoint  # flask-smorest's own (arguments, response) are still there
        assert not [w for w in wrappers if "alt_response" in w], (endpoint, wrappers)


def test_every_documented_problem_is_still_in_the_document(app: Flask) -> None:
    document = app.test_client().get("/openapi.json").get_json()
    responses = document["paths"]["/v1/reconcile"]["post"]["responses"]
    for status in (400, 413, 414, 415, 431, 500):
        assert responses[str(status)] == {"$ref": f"#/components/responses/{response_name(status)}"}
