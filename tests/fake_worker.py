"""A queue worker on fake models, run as its own process by the queue tests.

Everything but the models is the product's: ``pipeline.jobs.work`` claims jobs from the shared
database, renews leases, reports progress and stops on cancel. Speech comes from a fake that
takes ``--delay`` seconds per segment, so a job lasts long enough to be watched, cancelled or
interrupted. Each job this worker completes is appended to ``--log`` as ``job_id worker``.
The worker touches ``--ready`` once set up and starts claiming only once ``--go`` exists, so
all workers start together.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import jobs
from pipeline.adapters.whisper import RawSegment
from pipeline.models import Job, JobStatus
from pipeline.settings import load_settings
from pipeline.store import worker_id
from pipeline.workspace import Workspace
from tests.conftest import FakeChat, FakeEmbedder, FakeSTT


class SlowSTT(FakeSTT):
    def __init__(self, delay: float):
        lines = ["申請を受け付けます。", "5万円を超える場合は部長の承認が必要です。", "以上です。"]
        super().__init__([(i * 0.6, i * 0.6 + 0.5, t) for i, t in enumerate(lines)])
        self.delay = delay

    def transcribe(self, *args: Any, **kwargs: Any) -> tuple[Iterator[RawSegment], Any]:
        segments, info = super().transcribe(*args, **kwargs)

        def slow() -> Iterator[RawSegment]:
            for seg in segments:
                time.sleep(self.delay)
                yield seg

        return slow(), info


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--go", required=True)
    parser.add_argument("--ready", default="", help="touched once set up, before waiting for --go")
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--idle-exit", type=float, default=3.0)
    args = parser.parse_args()

    settings = load_settings(args.workspace, database_url=args.database_url)
    ws = Workspace(
        settings,
        llm=FakeChat(default=json.dumps({"label": "judgment"})),
        stt=SlowSTT(args.delay),
        embed=FakeEmbedder(),
    )
    run = jobs.run_job

    def logged(ws: Workspace, job: Job, lease_s: float = 60.0) -> Job:
        done = run(ws, job, lease_s=lease_s)
        if done.status == JobStatus.DONE and done.worker == job.worker:
            with open(args.log, "a") as log:
                log.write(f"{done.id} {worker_id()}\n")
        return done

    jobs.run_job = logged  # type: ignore[assignment]
    ws.store.list_jobs()  # connected and migrated
    if args.ready:
        Path(args.ready).touch()
    while not Path(args.go).exists():
        time.sleep(0.05)
    jobs.work(ws, idle_exit_s=args.idle_exit, poll_s=0.1, lease_s=args.lease)
    ws.close()


if __name__ == "__main__":
    main()
