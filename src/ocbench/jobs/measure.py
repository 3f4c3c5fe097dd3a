"""What a job measures about itself: wall and CPU seconds, and the peak memory of each run."""
from __future__ import annotations

import time


class Clock:
    """Wall and CPU seconds of the blocks it times (``with clock:``), added up.

    CPU time is this process's, all threads: on a shared machine the wall time also
    counts the waits for a free core, the CPU time does not.
    """

    def __init__(self):
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def reset_peak_memory() -> None:
    """Reset the process's peak resident set size (Linux), so that each run of a batch
    records its own peak (``metrics.peak_memory_mb``; plus the split's data, which every
    run holds)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass
