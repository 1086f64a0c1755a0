"""`ci-helper stubs create|check|report`: declared stub repositories, drift, fabricated names."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import click


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option(
        "--manifest",
        "manifest_flag",
        envvar="CI_HELPER_STUBS_MANIFEST",
        default=None,
        help="Stub manifest (YAML). Default: manifest in [tool.ci-helper.stubs].",
    )
    @click.option(
        "--root",
        "root_flag",
        envvar="CI_HELPER_STUBS_ROOT",
        default=None,
        help="Folder for the stub repositories. Default: [tool.ci-helper.stubs] root, else the manifest's root.",
    )
    @click.option("--results-dir", default=None, help="Where the stubs check result is written.")
    # functools.wraps' _Wrapped type does not match click's Concatenate[Context, P] for mypy; the call is right.
    @click.pass_context  # type: ignore[arg-type]
    @functools.wraps(func)
    def wrapper(
        ctx: click.Context, manifest_flag: str | None, root_flag: str | None, results_dir: str | None, **kwargs: Any
    ) -> Any:
        from ci_helper import results, settings as settings_module
        from ci_helper.gates.stubs import gate, locate, manifest

        settings = settings_module.load(".")
        results.start(gate.CHECK, results.results_dir(results_dir, settings.results_dir))
        loaded = manifest.load(locate.manifest_path(manifest_flag, settings))
        root = locate.root_path(root_flag, settings, loaded)
        return func(ctx, loaded, root, settings, results_dir, **kwargs)

    return wrapper


@click.group(name="stubs")
def command() -> None:
    """Declared stub repositories for packages CI cannot install (see docs/stubs.md)."""


@command.command("create")
@_options
@click.option(
    "--export",
    is_flag=True,
    default=False,
    help="In GitHub Actions, export PYTHONPATH, CI_HELPER_STUBS_MANIFEST and CI_HELPER_STUBS_ROOT to later steps.",
)
def create(ctx: click.Context, loaded: Any, root: Any, settings: Any, results_dir: str | None, export: bool) -> None:
    """Write the stub repositories the manifest declares (idempotent)."""
    from ci_helper import gha
    from ci_helper.gates.stubs import gate, generator

    report = generator.write(loaded, root)
    click.echo(
        f"stubs: wrote {len(report.written)} files, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed under {root.as_posix()} (from {loaded.path.as_posix()})"
    )
    search = [str(p.resolve()) for p in generator.search_path(loaded, root)]
    pythonpath = os.pathsep.join(search)
    stamp = generator.stamp(loaded)
    click.echo(f"stamp: {stamp}")
    click.echo(f"PYTHONPATH: {pythonpath}")
    click.echo('local pytest: PYTHONPATH="$(ci-helper stubs path)" pytest, or pytest -p ci_helper.stubs')
    gha.set_output("stamp", stamp)
    gha.set_output("root", str(root.resolve()))
    gha.set_output("pythonpath", pythonpath)
    if export:
        existing = os.environ.get("PYTHONPATH")
        gha.set_env("PYTHONPATH", os.pathsep.join([pythonpath, existing]) if existing else pythonpath)
        gha.set_env("CI_HELPER_STUBS_MANIFEST", str(loaded.path.resolve()))
        gha.set_env("CI_HELPER_STUBS_ROOT", str(root.resolve()))
    result, _ = gate.evaluate(loaded, root)
    _finish(ctx, result, settings, results_dir)


@command.command("check")
@_options
def check(ctx: click.Context, loaded: Any, root: Any, settings: Any, results_dir: str | None) -> None:
    """Fail when stub files drift from the manifest or the budget is exceeded."""
    from ci_helper.gates.stubs import gate

    result, _ = gate.evaluate(loaded, root)
    _finish(ctx, result, settings, results_dir)


@command.command("report")
@_options
def report(ctx: click.Context, loaded: Any, root: Any, settings: Any, results_dir: str | None) -> None:
    """List fabricated names and the manifest entries that would declare them."""
    import yaml

    from ci_helper.gates.stubs import fabrication, gate

    result, fabricated = gate.evaluate(loaded, root)
    budget = loaded.dynamic_budget
    click.echo(f"fabricated names: {len(fabricated)} (budget: {'none' if budget is None else budget})")
    for item in fabricated:
        click.echo(f"  {item.name}  [{item.kind}, prefix {item.prefix}{', refused' if item.refused else ''}]")
    if fabricated:
        click.echo("declare them in the manifest (then drop the dynamic prefix when nothing is fabricated):")
        snippet = yaml.safe_dump(
            {"modules": fabrication.suggestion(fabricated)}, sort_keys=False, default_flow_style=False
        )
        click.echo("".join(f"  {line}\n" for line in snippet.splitlines()), nl=False)
    _finish(ctx, result, settings, results_dir)


@command.command("path")
@click.option(
    "--manifest",
    "manifest_flag",
    envvar="CI_HELPER_STUBS_MANIFEST",
    default=None,
    help="Stub manifest (YAML). Default: manifest in [tool.ci-helper.stubs].",
)
@click.option(
    "--root",
    "root_flag",
    envvar="CI_HELPER_STUBS_ROOT",
    default=None,
    help="Folder of the stub repositories. Default: [tool.ci-helper.stubs] root, else the manifest's root.",
)
def path(manifest_flag: str | None, root_flag: str | None) -> None:
    """Print the PYTHONPATH a local pytest needs: PYTHONPATH="$(ci-helper stubs path)" pytest."""
    from ci_helper import settings as settings_module
    from ci_helper.errors import BadInput
    from ci_helper.gates.stubs import generator, locate, manifest

    settings = settings_module.load(".")
    loaded = manifest.load(locate.manifest_path(manifest_flag, settings))
    root = locate.root_path(root_flag, settings, loaded)
    stamp_file = root / generator.STAMP_FILE
    if not stamp_file.is_file():
        raise BadInput(
            f"{loaded.path}: its stubs are not created under {root.as_posix()}: run "
            f"`ci-helper stubs create --manifest {loaded.path.as_posix()}` first"
        )
    import json

    try:
        created = json.loads(stamp_file.read_text(encoding="utf-8")).get("stamp")
    except (OSError, ValueError, AttributeError):
        created = None
    if created != generator.stamp(loaded):
        click.echo(
            f"warning: the stubs under {root.as_posix()} were created from another version of "
            f"{loaded.path.as_posix()}: run `ci-helper stubs create` again",
            err=True,
        )
    click.echo(os.pathsep.join(str(p.resolve()) for p in generator.search_path(loaded, root)))


def _finish(ctx: click.Context, result: Any, settings: Any, results_dir: str | None) -> None:
    from ci_helper import gha, results

    for finding in result.findings:
        if finding.rule == "stubs-fabricated" and finding.severity != "error":
            continue  # listed by `stubs report`; one line each here would drown the drift
        location = f"{finding.location()}: " if finding.file else ""
        click.echo(f"{finding.severity}: {location}{finding.message} [{finding.rule}]")
        if gha.in_actions():
            gha.annotate_finding(finding, f"stubs: {finding.rule}")
    figures = result.figures
    prefixes = ", ".join(figures["dynamic_prefixes"]) or "none"
    click.echo(
        f"stubs: {result.status} ({figures['repositories']} repositories, {figures['modules']} modules, "
        f"{figures['names']} names, dynamic prefixes: {prefixes}, fabricated: {figures['fabricated']}"
        f"{'' if figures['dynamic_budget'] is None else '/' + str(figures['dynamic_budget'])}, "
        f"drifted files: {figures['drifted_files']}, fake inference: {'on' if figures['fake_inference'] else 'off'})"
    )
    results.write_result(result, results.results_dir(results_dir, settings.results_dir))
    ctx.exit(result.exit_code)
