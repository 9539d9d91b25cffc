"""Drive the engine bench's stream for an instruction counter (valgrind), one part at a time.

Wall-clock timings on a shared machine spread by ±10 %, which hides changes of a few per cent;
machine instructions under valgrind repeat to well under 1 %. Counting the difference between a
run that does the work and one that does everything else isolates the part being compared::

    python -m tests.bench.engine_instructions --part process --order shuffled --work  # minus
    python -m tests.bench.engine_instructions --part process --order shuffled          # divided by --repeat

Parts: ``whole`` builds and runs an engine per repetition (what ``make bench`` times),
``process`` runs engines built beforehand (the per-event path alone), ``build`` only builds
engines. ``--no-gc`` switches the cyclic garbage collector off after the warm-up, so the
figure does not depend on where its full collections happen to fall. Not a test: nothing here
is collected by pytest.
"""

from __future__ import annotations

import argparse
import gc

from engine.core import Engine
from tests.bench.test_bench_engine import _run_engine, approval_stream, shuffled_within_lateness


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("whole", "process", "build"), default="whole")
    p.add_argument("--order", choices=("in_order", "shuffled"), default="in_order")
    p.add_argument("--cases", type=int, default=2_000, help="cases in the stream (about 10 events each)")
    p.add_argument("--repeat", type=int, default=4, help="repetitions of the counted part")
    p.add_argument("--work", action="store_true", help="do the counted part (without it: everything else)")
    p.add_argument("--no-gc", action="store_true", help="switch the garbage collector off after the warm-up")
    args = p.parse_args(argv)

    events = approval_stream(args.cases, seed=1)
    if args.order == "shuffled":
        events = shuffled_within_lateness(events, seed=2)
    _run_engine(events)  # warm-up: lazy imports and caches are not counted
    if args.no_gc:
        gc.collect()
        gc.disable()
    engines = [Engine() for _ in range(args.repeat)] if args.part == "process" else []
    if not args.work:
        return
    for k in range(args.repeat):
        if args.part == "whole":
            _run_engine(events)
        elif args.part == "build":
            Engine()
        else:
            engines[k].process_many(events)
            engines[k].finish()


if __name__ == "__main__":
    main()
