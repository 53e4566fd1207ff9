"""``kazsim demo``: serve the live page (``sim/app/``) with Solara on this machine."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from sim import frontend
from sim.batch.replay import stored_spec
from sim.cli.common import print_error
from sim.errors import KazsimInputError
from sim.scenario import SCENARIOS_DIR, scenario_from_resolved

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class DemoError(KazsimInputError):
    """A ``kazsim demo`` option that cannot be honoured."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_options(scenario: str, host: str, port: int, allow_remote: bool) -> None:
    """Refuse what ``kazsim demo`` must not do; raises :class:`DemoError`."""
    names = sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml"))
    if scenario not in names:
        raise DemoError(f"unknown scenario {scenario!r}; the page offers: {', '.join(names)}")
    if not 1 <= port <= 65535:
        raise DemoError(f"--port {port}: expected a port number from 1 to 65535")
    if not is_loopback(host) and not allow_remote:
        raise DemoError(
            f"--host {host} would let other machines reach the page (and run the model on this one); "
            "the demo binds 127.0.0.1 by default. Add --allow-remote to serve on a non-loopback address."
        )


def solara_command(host: str, port: int) -> list[str]:
    """The server command: ``solara run sim.app`` in production mode."""
    return [sys.executable, "-m", "solara", "run", "sim.app", "--host", host, "--port", str(port),
            "--production", "--no-open"]


#: The environment variable the page reads a stored scenario from (``sim.app.controls``).
STORED_SCENARIO_VARIABLE = "KAZSIM_DEMO_RESOLVED"


def replayed_scenario(folder: Path, scenario: str | None, seed: int) -> dict:
    """A batch run's resolved scenario (parameter draw applied) and seed, named ``<scenario>-seed<N>`` for the page.

    Raises:
        KazsimInputError: the folder, scenario or seed cannot be replayed (naming which).
    """
    spec = stored_spec(folder, scenario, seed)
    data = {**spec.scenario, "seed": seed, "name": f"{spec.name[:88]}-seed{seed}"}
    data["description"] = (f"Run {spec.name} seed {seed} of {folder}, as the batch ran it"
                           + ("" if spec.particle is None else f" (posterior particle {spec.particle})") + ".")
    scenario_from_resolved(data, f"{folder} (scenario {spec.name})")
    return data


def provide_frontend(report: Callable[[str], None]) -> Path:
    """Make sure Solara's front-end files are cached locally, fetching what is missing; returns the cache.

    Raises :class:`~sim.frontend.FrontendError` (what is missing and how to get it) when they cannot be had.
    """
    cache = frontend.cache_dir()
    missing = frontend.missing_packages(cache, frontend.PACKAGES)
    if missing:
        report(f"Solara's front-end files are not cached yet; fetching {len(missing)} npm packages into {cache} (once)")
        frontend.ensure_frontend(cache, packages=frontend.PACKAGES, report=report)
    return cache


def demo(
    scenario: Annotated[str | None, typer.Argument(
        help="Scenario the page opens with (a name in scenarios/; default baseline_2011).")] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless --allow-remote.")] = "127.0.0.1",
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Permit a non-loopback --host (exposes the page).")
    ] = False,
    from_: Annotated[Path | None, typer.Option(
        "--from", help="Open a run of this batch or exploration folder (with --scenario and --seed).")] = None,
    scenario_name: Annotated[str | None, typer.Option(
        "--scenario", help="With --from: the scenario (or design point) of the run.")] = None,
    seed: Annotated[int | None, typer.Option(help="With --from: the run's seed.")] = None,
) -> None:
    """Serve the live page (map, timeline, levers) with Solara; prints the address.

    With ``--from DIR --scenario NAME --seed N`` the page opens with that run of a batch or exploration:
    its resolved scenario, parameter draw and seed.
    """
    stored = None
    try:
        if from_ is not None:
            if scenario is not None:
                raise DemoError(f"--from {from_}: the page opens the stored run; give no SCENARIO with it")
            if seed is None:
                raise DemoError(f"--from {from_}: give the run's --seed")
            stored = replayed_scenario(from_, scenario_name, seed)
        elif scenario_name is not None or seed is not None:
            raise DemoError("--scenario and --seed open a run of a folder given with --from")
        scenario = scenario or "baseline_2011"
        check_options(scenario, host, port, allow_remote)
        cache = provide_frontend(report=lambda message: print_error(message, label="kazsim demo", style="bold"))
    except KazsimInputError as error:  # printed here so that nothing in the message is read as markup
        print_error(str(error))
        raise typer.Exit(2) from None
    shown = f"[{host}]" if ":" in host else host
    print(f"kazsim demo: serving {stored['name'] if stored else scenario} at http://{shown}:{port}/  (Ctrl+C stops)",
          flush=True)
    if not is_loopback(host):
        print_error(f"serving on {host}: other machines can reach this page", label="warning", style="yellow")
    # A closed tab's session (about 35 MB) is kept for 10 minutes in case it reconnects, not Solara's 24 hours.
    env = {"SOLARA_KERNEL_CULL_TIMEOUT": "10m", **os.environ, "KAZSIM_DEMO_SCENARIO": scenario,
           "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache), "KAZSIM_DEMO_WARM_UP": "1"}
    workspace = None
    if stored is not None:
        workspace = Path(tempfile.mkdtemp(prefix="kazsim-demo-"))
        (workspace / "scenario.json").write_text(json.dumps(stored, indent=2), encoding="utf-8")
        env[STORED_SCENARIO_VARIABLE] = str(workspace / "scenario.json")
    try:
        _serve(host, port, env)
    finally:
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)


def _serve(host: str, port: int, env: dict[str, str]) -> None:
    """Run the Solara server until it stops (Ctrl+C or SIGTERM), then exit with its status."""
    process = subprocess.Popen(solara_command(host, port), cwd=ROOT, env=env)

    def stop(signum, frame):  # SIGTERM to kazsim stops the server too (no orphan)
        process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
    raise typer.Exit(0 if code in (0, -15) else code)
