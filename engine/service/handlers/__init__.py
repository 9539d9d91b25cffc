"""The service's route handlers, one module per kind of client.

Why split by client: ingest (sources posting events), readers (supervisors, the centre page,
loss checks), admin (quarantine decisions) and health (probes, the OpenAPI document, the
page) change for different reasons and are tested apart. :mod:`.state` holds what they all
share: the process's store, writer and metrics, the token guards and the ``logged`` wrapper
every route goes through. Each handler module is a mixin over :class:`.state.ServiceState`;
:mod:`engine.service.app` puts them together and routes to them.
"""
