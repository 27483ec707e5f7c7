"""Request and response bodies of the sidecar API, one module per resource: what its OpenAPI document describes.

Requests forbid unknown fields, so a typo (``"forse": true``) is a 422 instead of a silently ignored
safety switch. Responses are built from the DataStore's and the actions' dataclasses by each module's
``*_body`` / ``*_result`` helpers, so a route only calls the service and hands the result over.
A class's name and docstring are its schema's name and description: renaming one changes the document.
"""
