"""One module-level ``APIRouter`` per resource; :func:`..app.create_sidecar_app` includes them under the API prefix.

Routes only authenticate (the ``Caller`` dependency), call the service and serialize: the work, the roles and
the audit trail are in :mod:`resque_exporter.actions`, shared with the pages.

A route's docstring is its operation's description in the OpenAPI document, so the routes that never had a
description have no docstring: adding one changes what clients are generated from.
"""
