"""The ``twin scene generate``, ``twin scene load`` and ``twin simulate`` commands.

The IFC and GIS writers, the importers and the MQTT simulator come from the composition root
(``twin/cli.py``) as :class:`SceneTools`, so this module, like the rest of ``twin``, imports none
of ``bim``, ``gis`` or ``realtime``. A scene whose generated files are missing is generated first.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from twin.alarms.rules import Vocabulary
from twin.auth.pii import PiiKey
from twin.imports import ImporterRegistry
from twin.imports.assets import assets_root
from twin.scenes.billing import close_next_month
from twin.scenes.data import households, last_period
from twin.scenes.files import read_bills, read_bindings, write_bills
from twin.scenes.generate import GenerateReport, Writers, community_of, ensure_generated, generate_scene
from twin.scenes.load import load
from twin.scenes.model import GenerateSpec, Scene, SceneError
from twin.scenes.parse import load_scene
from twin.services.broker_auth import SIMULATOR
from twin.services.endpoints import BrokerAddress, broker_address, database_url
from twin.settings import get_settings
from twin.store.engine import check_schema, make_engine

console = Console()
SCENARIO_HELP = "fire | elevator | leak | gateway_offline | billing"


@dataclass(frozen=True, slots=True)
class SceneTools:
    """What the scene commands need from bim, gis and realtime, wired by the composition root."""

    writers: Callable[[], Writers]
    importers: Callable[[], ImporterRegistry]
    simulate: Callable[..., Any]
    """``realtime.simulator.run_simulation``: publish bindings to a broker, return a report."""
    broker: Callable[[BrokerAddress], Any]
    """Build the simulator's broker settings from the configured broker address."""
    quantities: Callable[[], Vocabulary]
    """What alarm rules may name: the live decoder's quantities (``realtime.rules.load.vocabulary``)."""


def add_scene_commands(app: typer.Typer, tools: Callable[[], SceneTools]) -> None:
    """Add ``twin scene …`` and ``twin simulate`` to the CLI."""
    scene_app = typer.Typer(help="Loadable communities: generate, load.", no_args_is_help=True)
    app.add_typer(scene_app, name="scene")

    @scene_app.command("generate")
    def generate(
        out: Annotated[Path, typer.Argument(help="The scene folder; files go to OUT/generated/.")],
        buildings: Annotated[int, typer.Option(min=1, max=200, help="Towers.")] = 6,
        floors: Annotated[int, typer.Option(min=1, max=60, help="Floors per tower.")] = 18,
        units_per_floor: Annotated[int, typer.Option(min=1, max=16, help="Households per floor.")] = 4,
        seed: Annotated[int, typer.Option(help="The same seed writes the same community.")] = 1,
        last: Annotated[str | None, typer.Option(help="Last billed month, YYYY-MM (default: last month).")] = None,
    ) -> None:
        """Write a generated community: IFC4 model, GIS layers, bindings, residents, a year of bills."""
        spec = GenerateSpec(buildings, floors, units_per_floor, seed)
        out.mkdir(parents=True, exist_ok=True)
        with console.status("generating the community…"):
            report = generate_scene(out, spec, tools().writers(), last_period=last or last_period(date.today()))
        _print_generated(report)

    @scene_app.command("load")
    def load_command(
        scene: Annotated[Path, typer.Argument(help="The scene folder (holding scene.toml).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Load a scene: site, IFC and GIS, bindings, residents, bills, alarm rules, plans. Twice changes nothing."""
        load_scene_folder(scene, tools, as_json)

    @app.command()
    def simulate(
        scene: Annotated[Path, typer.Option(help="The scene folder whose bound devices publish.")],
        rate: Annotated[float | None, typer.Option(help="Messages per second in all (default: real pace).")] = None,
        scenario: Annotated[str | None, typer.Option(help=SCENARIO_HELP)] = None,
        seed: Annotated[int | None, typer.Option(help="Reproduce a run (default: the scene's).")] = None,
        duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
        processes: Annotated[int, typer.Option(min=1, max=64, help="Publishing processes.")] = 1,
    ) -> None:
        """Publish MQTT telemetry for every bound device of a scene, optionally with a scripted incident.

        A scenario started while another simulator publishes the scene (``twin demo``'s) is handed to
        that simulator: this process then publishes no device, and its stop ends the incident.
        """
        parsed = _ready(scene, tools)
        run_seed = parsed.simulator.seed if seed is None else seed
        if scenario == "billing":
            _close_billing(parsed)
            return
        if scenario is not None and processes > 1:
            raise SceneError("a scenario runs in one process", "drop --processes")
        bindings = [*parsed.bindings, *(read_bindings(parsed.bindings_file) if parsed.bindings_file else [])]
        wired = tools()
        broker = wired.broker(broker_address(get_settings(), SIMULATOR))
        console.print(f"simulating {len(bindings)} devices of {parsed.name} (Ctrl-C stops)")
        report = wired.simulate(
            bindings,
            broker,
            seed=run_seed,
            rate=rate or parsed.simulator.rate,
            scenario=scenario,
            duration=duration,
            processes=processes,
            scene=parsed.name,
            on_event=lambda what: console.print(f"[yellow]▶[/] {what}"),
        )
        if report.handed_to:
            console.print(f"[green]✓[/] {scenario} ended after {report.seconds:.1f} s in {', '.join(report.handed_to)}")
        else:
            console.print(
                f"[green]✓[/] {report.messages} messages in {report.seconds:.1f} s = {report.rate:.0f} msg/s "
                f"(simulated time ×{report.speed:.1f}; normal life is {report.natural_rate:.2f} msg/s)"
            )
        if report.unconfirmed:
            console.print(f"[red]✗[/] {report.unconfirmed} messages may not have reached the broker")


def load_scene_folder(scene: Path, tools: Callable[[], SceneTools], as_json: bool = False) -> None:
    """Load a scene into the configured database (generating it first if needed) and print the report."""
    settings = get_settings()
    url = database_url(settings)
    check_schema(url)
    parsed = _ready(scene, tools)
    engine = make_engine(url)
    try:
        with console.status(f"loading {parsed.name}…"):
            report = load(
                parsed,
                engine,
                tools().importers(),
                assets_root(settings.home),
                PiiKey.from_file(settings.pii_key_path()),
                f"cli:{getpass.getuser()}",
                quantities=tools().quantities(),
            )
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps(asdict(report), indent=2, ensure_ascii=False))
        return
    table = Table("site", str(report.site_id))
    for key, value in report.totals.items():
        table.add_row(key, str(value))
    table.add_row("bindings added", str(report.bound))
    table.add_row("gateway / feeds links added", f"{report.via} / {report.feeds}")
    table.add_row("residents added", str(report.residents_added))
    table.add_row("bills read / changed", f"{report.bills_read} / {report.bills_changed}")
    table.add_row("alarm rules changed", str(report.rules_changed))
    table.add_row("inspection plans changed", str(report.plans_changed))
    console.print(table)


def _ready(folder: Path, tools: Callable[[], SceneTools]) -> Scene:
    scene = load_scene(folder)
    if scene.missing():
        with console.status(f"generating {scene.name} on first use…"):
            report = ensure_generated(scene, tools().writers(), last_period=last_period(date.today()))
        if report is not None:
            _print_generated(report)
    return scene


def _close_billing(scene: Scene) -> None:
    community = community_of(scene)
    if community is None or scene.billing_file is None:
        raise SceneError(f"{scene.root}: closing a month needs a generated scene with a billing file")
    bills = read_bills(scene.billing_file)
    if not bills:
        raise SceneError(f"{scene.billing_file}: no bills to continue", "run `twin scene generate` again")
    period, export = close_next_month(bills, households(community), community.seed)
    write_bills(scene.billing_file, export)
    added = sum(1 for b in export if b.period == period)
    console.print(f"[green]✓[/] closed {period}: {added} bills added to {scene.billing_file.name}")


def _print_generated(report: GenerateReport) -> None:
    console.print(
        f"[green]✓[/] {report.folder}/generated: {report.devices} devices, {report.units} households, "
        f"{report.data.bindings} bindings, {report.data.residents} residents, {report.data.bills} bills "
        f"({report.data.periods[0]} … {report.data.periods[1]})"
    )
