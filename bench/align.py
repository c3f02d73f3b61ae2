"""Scale benchmark for livedesk.align: synthetic events of 10, 20 and 50 outlets.

Prints wall time and peak memory of a batch `align` for each size, the growth ratio per
doubling of the post count, and the latency of `Aligner.add` on an event of 10k posts.
Run: python bench/align.py [--quick]
"""

from __future__ import annotations

import math
import random
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

from livedesk.align.cluster import Aligner, align
from livedesk.model import AlignPost

START = datetime(2030, 5, 1, 6, 0, tzinfo=timezone.utc)
SYLLABLES = "ka lo mi ren tas vo bri del un sar pek ol tri mon zef ga hul nir"


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES.split()) for _ in range(parts))


def synthetic_event(n_outlets: int, posts_per_outlet: int, seed: int = 1) -> tuple[list[AlignPost], dict[str, int]]:
    """One long event: developments with their own rare words, names, figures and quotes,
    reported by a random subset of outlets with a lag; a fifth of the outlets give no times."""
    rng = random.Random(seed)
    general = sorted({_word(rng, rng.randint(2, 4)) for _ in range(6000)})
    people = [f"{_word(rng, 2).title()} {_word(rng, 3).title()}" for _ in range(12)]
    n_devs = int(posts_per_outlet * 1.6)
    span = timedelta(hours=24) / n_devs
    devs = []
    for d in range(n_devs):
        devs.append({
            "time": START + span * d,
            "facts": [_word(rng, 3) for _ in range(6)],
            "who": rng.choice(people),
            "figure": f"{rng.randint(11, 9000)} {rng.choice(['people', 'homes', 'tonnes', 'metres'])}",
            "quote": [rng.choice(general) for _ in range(8)],
        })
    posts: list[AlignPost] = []
    truth: dict[str, int] = {}
    for o in range(n_outlets):
        outlet = f"Outlet {o:02d}"
        timed = o % 5 != 4
        chosen = sorted(rng.sample(range(n_devs), posts_per_outlet))
        page = []
        for d in chosen:
            dev = devs[d]
            facts = rng.sample(dev["facts"], 4)
            quote = [w if rng.random() < 0.7 else rng.choice(general) for w in dev["quote"]]
            filler = rng.sample(general, 12)
            words = facts + filler
            rng.shuffle(words)
            text = (
                f"{dev['who']} said {' '.join(words[:8])} with {dev['figure']}. "
                f"\"{' '.join(quote)}\" {' '.join(words[8:])}."
            )
            when = dev["time"] + timedelta(minutes=rng.expovariate(1 / 12))
            page.append((when, text, d))
        page.sort(reverse=True)  # newest first, as live pages show
        for position, (when, text, d) in enumerate(page):
            posts.append(AlignPost(id=f"o{o:02d}-{position}", outlet=outlet, text=text,
                                   time=when if timed else None, position=position))
            truth[posts[-1].id] = d
    return posts, truth


def measure(posts: list[AlignPost]) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    align(posts)
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return wall, peak


def add_latency(posts: list[AlignPost], probes: int) -> list[float]:
    aligner = Aligner()
    order = sorted(posts, key=lambda p: (p.time or START, p.id))
    for p in order[:-probes]:
        aligner.add(p)
    latencies = []
    for p in order[-probes:]:
        started = time.perf_counter()
        aligner.add(p)
        latencies.append(time.perf_counter() - started)
    return sorted(latencies)


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = [(10, 250), (20, 250), (50, 400)] if not quick else [(10, 100), (20, 100)]
    print(f"{'outlets':>8} {'posts':>7} {'wall s':>8} {'peak MiB':>9} {'growth per doubling':>20}")
    previous = None
    for n_outlets, per_outlet in sizes:
        posts = synthetic_event(n_outlets, per_outlet)
        wall, peak = measure(posts)
        growth = ""
        if previous:
            doublings = math.log2(len(posts) / previous[0])
            growth = f"{(wall / previous[1]) ** (1 / doublings):.2f}x"
        print(f"{n_outlets:>8} {len(posts):>7} {wall:>8.2f} {peak:>9.0f} {growth:>20}")
        previous = (len(posts), wall)
    posts = synthetic_event(25, 400, seed=2) if not quick else synthetic_event(10, 100, seed=2)
    latencies = add_latency(posts, probes=200 if not quick else 20)
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"Aligner.add at {len(posts)} posts: p50 {p50:.0f} ms, p99 {p99:.0f} ms")


if __name__ == "__main__":
    main()
