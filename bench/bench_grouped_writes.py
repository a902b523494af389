"""What a grouped write saves (成组写入): the database's and this process's CPU per submission.

Run: ``python bench/bench_grouped_writes.py`` (about a minute). It needs a PostgreSQL server
(``EVAL_BENCH_PG``, as ``bench_surveys.py``; its own database, dropped afterwards) on this
machine, because it reads the server processes' CPU time from ``/proc`` (all of them: run it
while nothing else uses the server).

The same respondents' forms (a code each, the street-cleaning answers, the version the page
showed) are stored three ways, in alternating rounds:

* **alone** — the reference: ``submit_with_code`` in a session of its own, as a form sent
  while nothing else is being written (one statement on the driver's cursor);
* **k at once** — ``stored_together`` for k forms sent at the same moment through one
  ``WriteGroups`` (what the respondents' handler does under load): the first goes alone, the
  other k − 1 together in the next write.

Then what mixing the stored answers costs (``surveys.mixing``, which each worker does every
second): all of them in one round, as under load, and 5 at a time, the smallest group, as when
answers come one by one (each round as the workers run it, ``surveys_app.mix_answers``).

For each: CPU of the PostgreSQL server processes and of this process per submission (per
answer mixed), and both as a ratio of *alone*. Every form must be stored once (checked at the
end; exit status 1 if not). The HTTP stack is not in this measurement: ``bench_surveys.py``
measures the whole submission under load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_surveys import ANSWERS, check, prepare, scratch_database  # noqa: E402


def server_cpu() -> float:
    """Seconds of CPU of every PostgreSQL server process on this machine so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        if "(postgres)" in stat:
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--forms", type=int, default=3000, help="forms per way and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sizes", default="5,20", help="forms sent at once (default 5,20)")
    parser.add_argument("--quick", action="store_true", help="1 round of 600 forms")
    args = parser.parse_args()
    if args.quick:
        args.forms, args.rounds = 600, 1
    sizes = [int(k) for k in args.sizes.split(",") if k.strip()]
    with scratch_database() as url:
        return 0 if url is None else measure(args, sizes, url)


def measure(args, sizes: list[int], url: str) -> int:
    """The ways of writing on the empty database ``url``; the exit status."""
    os.environ.setdefault("EVAL_SECRET_KEY", "bench-secret-key-not-for-production")
    from sqlmodel import Session

    from evalplatform.db import WriteGroups, make_engine
    from evalplatform.services import surveys_app as app_service
    from surveys.models import Survey

    engine = None
    try:
        ways = ["alone"] + [f"{k} at once" for k in sizes]
        one_by_one = max(5, args.forms // 5 // 5 * 5)  # answers mixed 5 at a time
        total = 2 + args.rounds * len(ways) * args.forms + one_by_one
        survey_id, codes = prepare(url, total)
        engine = make_engine(url, pool_size=4)
        fresh = iter(codes)
        with Session(engine) as session:  # freezes the version, then caches its document
            for code in (next(fresh), next(fresh)):
                app_service.submit_with_code(session, code, lambda n: [ANSWERS[n]]
                                             if n in ANSWERS else [], "10.0.0.1")
            version = str(app_service.current(session, session.get(Survey, survey_id)).id)
        fields = {**ANSWERS, "version_id": version}

        def getlist(name: str) -> list[str]:
            return [fields[name]] if name in fields else []

        def alone(batch: list[str]) -> None:
            for code in batch:
                with Session(engine) as session:
                    app_service.submit_with_code(session, code, getlist, "10.0.0.1")

        def at_once(k: int, batch: list[str]) -> None:
            async def run():
                with ThreadPoolExecutor(4) as threads:
                    groups = WriteGroups(lambda: threads)
                    for at in range(0, len(batch), k):
                        stored = await asyncio.gather(*(
                            app_service.stored_together(groups, engine, code, getlist,
                                                        "10.0.0.1")
                            for code in batch[at:at + k]))
                        assert all(stored), "a fresh code was not stored"
            asyncio.run(run())

        figures: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
        # mixing 5 at a time, first: as answers that come one by one are mixed, each round as
        # the workers run it (the first round also takes the two answers above)
        spent = [0.0, 0.0]
        for _group in range(one_by_one // 5):
            alone([next(fresh) for _ in range(5)])
            server, own = server_cpu(), time.process_time()
            assert app_service.mix_answers(engine).answers >= 5
            spent[0] += server_cpu() - server
            spent[1] += time.process_time() - own
        figures["mixed, 5 at once"] = [(spent[0] / one_by_one, spent[1] / one_by_one)]
        for _round in range(args.rounds):
            for way in ways:
                batch = [next(fresh) for _ in range(args.forms)]
                server, own = server_cpu(), time.process_time()
                if way == "alone":
                    alone(batch)
                else:
                    at_once(int(way.split()[0]), batch)
                figures[way].append(((server_cpu() - server) / args.forms,
                                     (time.process_time() - own) / args.forms))
        # mixing: every answer stored by the ways above in one round
        waiting = total - one_by_one - 2
        server, own = server_cpu(), time.process_time()
        mixed = app_service.mix_answers(engine).answers
        assert mixed == waiting, f"{mixed} of {waiting} answers mixed"
        figures[f"mixed, {waiting} at once"] = [((server_cpu() - server) / mixed,
                                                 (time.process_time() - own) / mixed)]
        print(f"{args.forms} forms per way and round, {args.rounds} round(s), PostgreSQL; "
              f"CPU per submission (best round), per answer mixed ({one_by_one} 5 at a time)")
        print(f"{'':24}{'server ms':>11}{'× alone':>9}{'this process ms':>17}{'× alone':>9}")
        base = min(figures["alone"])
        for way in [*ways, *[w for w in figures if w not in ways]]:
            server, own = min(figures[way])
            print(f"{way:24}{1e3 * server:>11.3f}{server / base[0]:>9.2f}{1e3 * own:>17.3f}"
                  f"{own / base[1]:>9.2f}")
        problems = check(url, survey_id, total)
        print(f"stored once each: {'; '.join(problems) or 'OK'} ({total} sent)")
        return 1 if problems else 0
    finally:
        if engine is not None:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
