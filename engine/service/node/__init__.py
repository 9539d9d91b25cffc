"""All cores of one node: ``supsim serve --processes N``, halls partitioned over N service processes.

Why processes and not threads: the service's request handling and its writer both hold
the GIL, so one process uses about one core however many it has. N processes, each a
complete service (its own SQLite log, writer, engines, quarantine, integrity mark) owning
the halls whose ``crc32(partition) mod N`` is its index, use N cores and N fsync streams
without sharing any state. :mod:`.layout` is the partition map and where each log lives,
:mod:`.peers` the loopback client between processes, :mod:`.fanout` the routes that answer
for the whole node, :mod:`.handoff` the forwarding of another process's events, and
:mod:`.supervisor` starts the processes and restarts one that dies.
"""
