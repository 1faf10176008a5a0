"""The contract: marshmallow schemas of every request and response body. A claim's fields and
kind rules are declared once (:mod:`service.http.schemas.claim`) and every claim schema derives
from that declaration; the OpenAPI document is generated from these schemas."""
