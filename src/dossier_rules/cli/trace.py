"""``trace``: why each rule fired or did not on one dossier, condition node by condition node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..conditions import as_date
from ..locale import _
from ..problems import InputError
from ..sources import load_dossier, read_bytes
from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, as_of_option, load_packset, load_registry_set, packs_option, print_problems, registries_option


@click.command()
@click.argument("dossier", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rule", "rule_id", default=None, help="Trace this rule only.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@as_of_option
@packs_option
@registries_option
def trace(dossier: Path, rule_id: str | None, fmt: str, as_of: Any, packs_dir: Path, registries_dir: Path | None) -> None:
    """Show, for each rule of the dossier's pack, whether it fired and why.

    Every condition node is listed with the values it read (by JSON pointer)
    and its result; a comparison whose field was not provided says "not
    evaluated: field missing". Exit 1 when a traced rule fired, 0 when none
    did, 2 when the dossier or the packs cannot be read.
    """
    from ..engine import Engine
    from ..trace import applies, not_applied, trace_dossier

    packset = load_packset(packs_dir)
    registries = load_registry_set(packs_dir, registries_dir)
    try:
        data = load_dossier(read_bytes(dossier), str(dossier))
        pack = Engine(packset, registries, max_registry_age=None).pack_for(data["country"], str(dossier))
        pack.check_country_fields(data, str(dossier))
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    if rule_id is not None and not applies(pack, data["kind"], rule_id):
        raise click.UsageError(not_applied(pack, data["kind"], rule_id))
    day = as_of.date() if as_of else as_date(data["submitted"])
    traces = trace_dossier(pack, data, day, registries, rule_id)
    if fmt == "json":
        payload = {"dossier_id": data["dossier_id"], "pack": pack.id, "as_of": day.isoformat(), "rules": [t.to_json() for t in traces]}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(_("{dossier} under pack {pack}, as of {as_of}").format(dossier=data["dossier_id"], pack=pack.id, as_of=day.isoformat()))
        for rule_trace in traces:
            click.echo("\n".join(rule_trace.lines()))
    raise SystemExit(EXIT_FINDINGS if any(t.fired for t in traces) else EXIT_OK)
