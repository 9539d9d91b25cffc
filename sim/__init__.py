"""The simulated worlds: halls whose approval traffic carries known misconduct, the hall floor
under cameras, and a bidding market with collusive rings.

Entry points: :func:`sim.common.scenario.load_scenario` reads and checks a hall scenario file;
:func:`sim.hall.world.simulate` runs it and returns the time-ordered event stream (the engine's
only input) and the ground truth (which the engine never sees);
:func:`sim.market.world.simulate_market` does the same for a bidding market.

Rooms: ``common`` (scenario format, clock, truth records, hall model), ``hall`` (arrivals, the
fixed flow as SimPy processes, misconduct, deadline truth), ``floor`` (conduct, queues,
cameras), ``market`` (firms, tenders, rings, awards), ``queueing`` (Erlang C, FCFS fast path,
staffing levels). Every world imports only :mod:`engine.contract` of the engine.

Decisions worth knowing:

* Misconduct rates are per *eligible* case (a decision before acceptance only on instant
  items, steps out of order only with two steps...), so every injected episode is a clean,
  single-kind one; ``slow_walking`` has no truth kind of its own and shows up as
  ``step_overdue`` / ``overdue`` / ``severely_overdue`` episodes with cause ``injected``
  (as do the deadline episodes of cases whose timing an injection or a look-alike set:
  illegal and look-alike legal suspensions, closing just before the deadline).
* Deadline and step truth is computed for every case from the emitted records with the
  shared clock definitions, so it describes exactly what an engine can see; cases still
  open at the horizon count when the horizon is past their deadline (``end = None``).
* Department ids in the stream are ``<hall>-<department>`` so several halls never collide.
"""
