"""The HTTP layer: the Flask app factory, one blueprint per resource, the marshmallow schemas
that are the contract, problem details for every error, and the OpenAPI document built from
them. It may import :mod:`service.store`, :mod:`service.deploy` and :mod:`models`; nothing
below it imports it."""
