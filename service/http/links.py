"""Operation ids and OpenAPI links: how one response feeds the next request.

A client that created a question gets its ``id`` in the body and its version in ``ETag``;
the document says, as OpenAPI links (OpenAPI 3.0.3 §4.7.20), which later operations take
them: ``id`` → ``question_id`` of the question's reads and writes, ``ETag`` → ``If-Match`` of
its changes. The same holds for sources and claims. Code generators turn links into typed
follow-up calls, and the stateful fuzzer (``tests/contract/test_fuzz_stateful.py``) follows
them to reach stored resources instead of guessing ids.

Every operation gets an ``operationId``: its view function's name in lowerCamelCase
(``create_question`` → ``createQuestion``). Both are declared with the route
(:meth:`service.http.api.Blueprint.route`); a contract test checks that the ids are unique and
that every link leads to an operation and a path parameter the document has.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from service.http.conditional import ETAG_HEADER

__all__ = [
    "CREATED_HEADERS",
    "LINKS",
    "LOCATION_HEADER",
    "Link",
    "operation_id",
    "response_links",
]

#: OpenAPI description of the Location header of a 201.
LOCATION_HEADER: Final = {
    "description": "Path of the created resource.",
    "schema": {"type": "string"},
}

#: Headers of every 201 that creates a stored resource.
CREATED_HEADERS: Final = {"ETag": ETAG_HEADER, "Location": LOCATION_HEADER}

#: Runtime expressions (OpenAPI 3.0.3 §4.7.20.4).
ID: Final = "$response.body#/id"
ETAG: Final = "$response.header.ETag"
CLAIM_QUESTION: Final = "$response.body#/question"


class Link(NamedTuple):
    """One link: the target operation, its parameters as runtime expressions, and why."""

    operation_id: str
    parameters: dict[str, str]
    description: str


def _question_links() -> dict[str, Link]:
    question = {"question_id": ID}
    change = {**question, "header.If-Match": ETAG}
    return {
        "GetQuestion": Link("getQuestion", question, "Read this question."),
        "EditQuestion": Link("patchQuestion", change, "Change it; If-Match is this ETag."),
        "ResolveQuestion": Link(
            "resolveQuestion", change, "Record its true value; If-Match is this ETag."
        ),
        "QuestionHistory": Link("questionHistory", question, "Its revisions."),
        "ListClaims": Link("listClaims", question, "Its claims."),
        "AddClaim": Link("createClaim", question, "Add a claim to it."),
        "Estimate": Link("getEstimate", question, "Reconcile its claims."),
        "Plot": Link("getQuestionPlot", question, "Its forest plot."),
    }


def _source_links() -> dict[str, Link]:
    source = {"source_id": ID}
    return {
        "GetSource": Link("getSource", source, "Read this source."),
        "EditSource": Link(
            "patchSource", {**source, "header.If-Match": ETAG},
            "Change it; If-Match is this ETag.",
        ),
        "SourceHistory": Link("sourceHistory", source, "Its revisions."),
    }


def _claim_links() -> dict[str, Link]:
    claim = {"question_id": CLAIM_QUESTION, "claim_id": ID}
    change = {**claim, "header.If-Match": ETAG}
    return {
        "GetClaim": Link("getClaim", claim, "Read this claim."),
        "EditClaim": Link("patchClaim", change, "Edit it; If-Match is this ETag."),
        "RetractClaim": Link("retractClaim", change, "Retract it; If-Match is this ETag."),
        "ClaimHistory": Link("claimHistory", claim, "Its revisions."),
        "QuestionEstimate": Link(
            "getEstimate", {"question_id": CLAIM_QUESTION}, "Reconcile its question again."
        ),
        "QuestionPlot": Link(
            "getQuestionPlot", {"question_id": CLAIM_QUESTION}, "Its question's forest plot."
        ),
    }


def _links_from(
    operations: tuple[tuple[str, str], ...], links: dict[str, Link]
) -> dict[tuple[str, str], dict[str, Link]]:
    return {operation: links for operation in operations}


#: Links by (operationId, status): every response that returns a resource links to what can
#: be done with it next.
LINKS: Final[dict[tuple[str, str], dict[str, Link]]] = {
    **_links_from(
        (("createQuestion", "201"), ("getQuestion", "200"), ("patchQuestion", "200"),
         ("resolveQuestion", "200")),
        _question_links(),
    ),
    **_links_from(
        (("createSource", "201"), ("getSource", "200"), ("patchSource", "200")),
        _source_links(),
    ),
    **_links_from(
        (("createClaim", "201"), ("getClaim", "200"), ("patchClaim", "200"),
         ("retractClaim", "200")),
        _claim_links(),
    ),
}



def operation_id(view_name: str) -> str:
    """The ``operationId`` of a view: its function's name in lowerCamelCase."""
    head, *rest = view_name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def response_links(operation: str) -> dict[int, dict[str, object]]:
    """The OpenAPI ``responses`` members that carry the links of ``operation`` (may be empty)."""
    return {
        # Integer statuses, as flask-smorest keys the responses it documents, so that the
        # links merge into them.
        int(status): {"links": {
            name: {
                "operationId": link.operation_id,
                "parameters": dict(link.parameters),
                "description": link.description,
            }
            for name, link in links.items()
        }}
        for (source, status), links in LINKS.items()
        if source == operation
    }
