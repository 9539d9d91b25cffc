"""The distributed deployment: stateless ingest, hall-partitioned engine workers, NATS JetStream.

Why JetStream and not a home-made replication: a supervision centre that outgrows one node
needs acknowledged data to survive the loss of a node, and replicated logs with leader
election are a solved problem that supsim should use rather than re-solve. Every piece of
durable state lives in one replicated (R3) JetStream cluster:

* ``EVENTS`` — every accepted event, one message each, subject ``events.<partition>.<hall>``,
  message id built from (hall, event id): the server drops a resend (dedup window).
* ``ALERTS`` — every alert, subject ``alerts.<partition>.<hall>``, message id from
  (hall, alert id): a worker that replays after a crash re-raises the same alerts and the
  server drops them.
* object store ``SNAPSHOTS`` — per partition, the engines of its halls and the ``EVENTS``
  stream sequence they have consumed.
* key-value bucket ``STATUS`` — each worker's position and backlog, for health and chaos checks.

Processes (:mod:`.supervisor` starts and restarts them): NATS servers, ingest processes
(:mod:`.ingest_app`; stateless, any number, one shared port), and workers (:mod:`.worker`;
worker ``i`` of ``M`` owns partitions ``p % M == i``). :mod:`.chaos` kills them on a
schedule and checks that nothing acknowledged was lost. ``docs/scale.md`` has the guarantees.
"""
