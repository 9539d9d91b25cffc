"""``supsim run NETWORK.yaml``: a network of halls run in parallel partitions, streamed to disk.

:mod:`.run` plans the partitions and gathers the halls' records, :mod:`.hall` is the unit of
parallel work (one partition, one hall at a time), :mod:`.store` is where its data goes.
"""
