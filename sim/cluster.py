"""Dask clusters for batches and calibration: a loopback cluster, or a connection to a running one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sim.errors import KazsimInputError

#: Dask settings of kazsim's loopback cluster (why each: :func:`local_cluster`); ``docs/cluster.md`` gives them
#: as a configuration file for clusters started by hand.
CLUSTER_SETTINGS: dict[str, object] = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.admin.tick.interval": "200ms",
    "distributed.worker.memory.monitor-interval": "500ms",
    "distributed.scheduler.work-stealing": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
}


def local_cluster(workers: int = 2):
    """A loopback Dask ``LocalCluster`` of single-threaded worker processes, for ``--scheduler local``.

    Every listener (scheduler, nannies, workers, dashboard) binds 127.0.0.1 only.

    Dask's statistical profiler is switched off in its workers: sampling the running task's stack
    every 10 ms takes the GIL from the model and cost about 20 % of the throughput here. So is the
    aggressive memory trimming Dask asks of glibc in its workers (``MALLOC_TRIM_THRESHOLD_``): a run
    allocates and frees its tables, and handing that memory back to the system after every run cost
    about 6 % of the workers' CPU time (measured in alternation on this machine); workers keep nothing
    between runs, so their memory does not grow without it. Last, Dask's event loops check their own
    health every 20 ms and the nannies their workers' memory every 100 ms: each wake-up takes a core
    (in a worker, the interpreter) from the model; every 200 ms and 500 ms still catch a stuck loop or a
    worker over its memory in time, and saved about 7 % of the CPU time per run here (four alternating pairs).
    Work stealing is off: a batch keeps at most two tasks per worker thread in flight and the scheduler queues
    the rest, so there is nothing to rebalance, yet stealing books every task in and out. The system monitor
    (the dashboard's CPU, memory and network plots) samples every 2 s instead of 0.5 s and leaves out disk
    counters. Together these took about 0.8 ms of the scheduler's and 0.4 ms of a worker's CPU time off each
    run (3 alternating pairs of 300 runs; 1.2 ms of a 145 ms run), too little for whole batches of 600 runs in
    alternation to resolve on this machine.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set(CLUSTER_SETTINGS):
        # Port 0: the dashboard takes a free port instead of 8787, which another cluster may hold. Its host must
        # be given too: ":0" binds every interface and would publish the dashboard to the network.
        return LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address="127.0.0.1:0")


@contextmanager
def dask_client(scheduler: str, workers: int, error: type[KazsimInputError]) -> Iterator[object]:
    """A Dask client, closed (with any cluster it started) on exit.

    Args:
        scheduler: ``"local"`` starts :func:`local_cluster` of ``workers`` workers; otherwise the
            address of a running scheduler (``tcp://host:port``).
        workers: workers of the loopback cluster.
        error: raised, naming ``--scheduler``, when no scheduler answers at the address.
    """
    from distributed import Client

    cluster = None
    if scheduler == "local":
        cluster = local_cluster(workers)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as problem:
            raise error(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({problem})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
