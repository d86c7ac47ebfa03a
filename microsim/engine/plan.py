"""The plan: which households each task simulates, for which replicate.

Takes: the number of households, the chunk size and the number of replicates.
Gives: `Task`s. A task's draws depend only on (seed, replicate, household and
person ids), never on the chunk boundaries, so any chunk size gives the same
people, illnesses and results.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    replicate: int
    chunk: int
    start: int      # first household (global index)
    stop: int       # one past the last household

    @property
    def key(self) -> str:
        return f"r{self.replicate}-c{self.chunk}"

    @property
    def households(self) -> int:
        return self.stop - self.start


def make_plan(n_households: int, chunk_size: int, replicates: int) -> list[Task]:
    """Chunks of at most `chunk_size` households, for every replicate."""
    if n_households <= 0 or chunk_size <= 0 or replicates <= 0:
        raise ValueError("households, chunk size and replicates must be positive")
    tasks = []
    for r in range(replicates):
        for c, start in enumerate(range(0, n_households, chunk_size)):
            tasks.append(Task(r, c, start, min(start + chunk_size, n_households)))
    return tasks
