"""Load test of the study server: simulated participants answering concurrently over loopback.

Starts ``synthdiff study serve`` (uvicorn, one process) on 127.0.0.1 with a fresh SQLite database (or
``--database-url``), signs up the participants, then runs them concurrently: each loads its next pair,
waits a think time, answers, and now and then submits the same answer twice (a double click). At the
end it checks the database against what the clients were told: every acknowledged answer stored once,
no other answer stored, no pair over its K answers. Prints latencies (median, p95, p99) and writes a
JSON summary. Bounded: loopback only, a fixed number of answers.

    python benchmarks/bench_study.py                       # 200 participants x 50 answers
    python benchmarks/bench_study.py --participants 20 --answers-each 10 --think 0.1   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
import numpy as np
from PIL import Image
from sqlalchemy import func, select

from synthdiff.study import Database, StudySettings, create_study
from synthdiff.study._models import Answer, Assignment

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ASSIGNMENT = re.compile(r'name="assignment_id" value="(\d+)"')


def _percentiles(values: list[float]) -> dict[str, float]:
    data = np.array(values) * 1000
    return {
        "n": int(data.size),
        "median_ms": round(float(np.median(data)), 1),
        "p95_ms": round(float(np.percentile(data, 95)), 1),
        "p99_ms": round(float(np.percentile(data, 99)), 1),
        "max_ms": round(float(data.max()), 1),
    }


def _make_study(folder: Path, url: str, pairs: int, traps: int, per_pair: int) -> None:
    images = folder / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for index in range(20):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(images / f"{index}.png")
    lines = ["pair_id,image_a,image_b,trap_answer"]
    for index in range(pairs + traps):
        trap = "no" if index >= pairs else ""
        lines.append(f"p{index},{index % 20}.png,{(index + 1) % 20}.png,{trap}")
    (folder / "pairs.csv").write_text("\n".join(lines) + "\n")
    create_study(
        folder / "pairs.csv", "yesno", images, database_url=url, seed=0,
        settings=StudySettings(answers_per_pair=per_pair, trap_rate=0.05, min_response_ms=0),
    )  # fmt: skip


class SimulatedParticipant:
    def __init__(self, index: int) -> None:
        self.name = f"p{index:04d}"
        self.acknowledged: set[int] = set()
        self.duplicates_refused = 0


async def _run(base: str, args: argparse.Namespace) -> dict[str, object]:
    people = [SimulatedParticipant(i) for i in range(args.participants)]
    answer_times: list[float] = []
    page_times: list[float] = []
    answer_app_times: list[float] = []  # the server's own time (Server-Timing), seconds
    errors: list[str] = []
    rng = random.Random(0)
    clients = [httpx.AsyncClient(base_url=base, timeout=120) for _ in people]

    async def signup(client: httpx.AsyncClient, person: SimulatedParticipant) -> str:
        page = await client.get("/signup")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        response = await client.post(
            "/signup", data={"username": person.name, "password": "load-test-pw", "csrf_token": token}
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign-up of {person.name} answered {response.status_code}")
        return token

    async def participate(client: httpx.AsyncClient, person: SimulatedParticipant, token: str) -> None:
        await asyncio.sleep(rng.uniform(0, args.think))  # arrivals spread over one think time
        try:
            while len(person.acknowledged) < args.answers_each:
                began = time.perf_counter()
                page = await client.get("/next")
                page_times.append(time.perf_counter() - began)
                match = ASSIGNMENT.search(page.text)
                if match is None:
                    errors.append(f"{person.name}: no pair left after {len(person.acknowledged)}")
                    return
                await asyncio.sleep(rng.uniform(0.5 * args.think, 1.5 * args.think))
                form = {
                    "assignment_id": match.group(1),
                    "choice": rng.choice(("yes", "no")),
                    "csrf_token": token,
                }
                began = time.perf_counter()
                response = await client.post("/answer", data=form)
                answer_times.append(time.perf_counter() - began)
                timing = response.headers.get("server-timing", "")
                if timing.startswith("app;dur="):
                    answer_app_times.append(float(timing.split("=")[1]) / 1000)
                if response.status_code != 303:
                    errors.append(f"{person.name}: answer got {response.status_code}")
                    continue
                person.acknowledged.add(int(match.group(1)))
                if rng.random() < args.double_submit:
                    again = await client.post("/answer", data=form)
                    if again.status_code == 409:
                        person.duplicates_refused += 1
                    else:
                        errors.append(f"{person.name}: a double submission got {again.status_code}")
        except Exception as error:
            errors.append(f"{person.name}: {type(error).__name__}: {error}")

    try:
        began = time.perf_counter()
        # Sign-ups (argon2, slow on purpose) happen before the clock for answers starts.
        tokens = await asyncio.gather(*(signup(c, p) for c, p in zip(clients, people, strict=True)))
        signup_seconds = time.perf_counter() - began
        began = time.perf_counter()
        await asyncio.gather(*(participate(c, p, t) for c, p, t in zip(clients, people, tokens, strict=True)))
        answering_seconds = time.perf_counter() - began
    finally:
        for client in clients:
            await client.aclose()
    return {
        "people": people,
        "answer_latency": _percentiles(answer_times) if answer_times else None,
        "page_latency": _percentiles(page_times) if page_times else None,
        "answer_time_in_app": _percentiles(answer_app_times) if answer_app_times else None,
        "errors": errors,
        "signup_seconds": round(signup_seconds, 1),
        "answering_seconds": round(answering_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--answers-each", type=int, default=50)
    parser.add_argument(
        "--think", type=float, default=5.0, help="mean seconds between seeing a pair and answering"
    )
    parser.add_argument("--double-submit", type=float, default=0.05, help="share of answers sent twice")
    parser.add_argument("--answers-per-pair", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/study-load.json"))
    args = parser.parse_args()

    total = args.participants * args.answers_each
    # 20% spare capacity, and enough pairs for each participant (nobody sees a pair twice).
    pairs = max(-(-total * 6 // 5 // args.answers_per_pair), 2 * args.answers_each)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        url = args.database_url or f"sqlite:///{folder / 'study.db'}"
        _make_study(folder, url, pairs, traps=50, per_pair=args.answers_per_pair)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = (folder / "server.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-c", "from synthdiff.cli import main; main()", "study", "serve",
             "--database-url", url, "--port", str(port)],
            stdout=log, stderr=log,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            result = asyncio.run(_run(base, args))
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
        database = Database(url)
        with database.read() as session:
            stored = session.execute(
                select(Answer.assignment_id, Answer.participant_id, Answer.pair_id)
            ).all()
            over = session.execute(
                select(Answer.pair_id, func.count())
                .where(Answer.is_trap.is_(False))
                .group_by(Answer.pair_id)
                .having(func.count() > args.answers_per_pair)
            ).all()
            open_left = session.scalar(select(func.count()).where(Assignment.answered.is_(False))) or 0
        database.dispose()
    people = result.pop("people")
    acknowledged = set().union(*(p.acknowledged for p in people))  # type: ignore[attr-defined]
    stored_ids = [row[0] for row in stored]
    summary = {
        "participants": args.participants,
        "answers_each": args.answers_each,
        "think_seconds_mean": args.think,
        "answers_per_pair": args.answers_per_pair,
        "database": "sqlite" if url.startswith("sqlite") else "postgresql",
        "answers_acknowledged": len(acknowledged),
        "answers_stored": len(stored_ids),
        "lost": len(acknowledged - set(stored_ids)),
        "stored_but_not_acknowledged": len(set(stored_ids) - acknowledged),
        "duplicated": len(stored_ids)
        - len(set(stored_ids))
        + len(stored)
        - len({(row[1], row[2]) for row in stored}),
        "double_submissions_refused": sum(p.duplicates_refused for p in people),  # type: ignore[attr-defined]
        "pairs_over_k": len(over),
        "reservations_left_open": open_left,
        **result,
        "error_count": len(result["errors"]),  # type: ignore[arg-type]
    }
    summary["errors"] = summary["errors"][:10]  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    throughput = summary["answers_stored"] / max(float(result["answering_seconds"]), 1e-9)  # type: ignore[arg-type]
    print(f"throughput: {throughput:.1f} answers/s over {result['answering_seconds']} s")
    if summary["lost"] or summary["duplicated"] or summary["pairs_over_k"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
