"""The supervision centre's view of a network of halls: units, alert trends, the network board.

Why a package apart from the board of open alerts (:mod:`engine.service.board`): that board
is per hall and department and is kept by the writer; the network view is a read-side
aggregate over it, shared by ``supsim serve`` and the cluster's ingest processes, which
feed it different facts (open alerts and case KPIs from the engines; raised alerts only
from the alerts stream).
"""
