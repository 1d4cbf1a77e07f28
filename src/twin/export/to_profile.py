"""Export a run into the profile's models folder, record it (model.json) and, when asked, make it the
profile's writing model."""

from __future__ import annotations

from functools import partial
from typing import Any

from twin.export.pipeline import Event, ExportOptions, export_run
from twin.ids import check_name
from twin.models.activate import activate
from twin.models.store import Kind, ModelRecord, folder, now, save, stable_base
from twin.profiles import Profile
from twin.train.rundir import RunDir


def record_for(out: dict[str, Any], manifest: dict[str, Any], opts: ExportOptions) -> ModelRecord:
    kind: Kind = "merged" if out.get("model_gguf") else "ollama" if out.get("ollama_from") else "lora"
    return ModelRecord(
        name=opts.name,
        kind=kind,
        run=out["run"],
        dataset=(manifest.get("dataset") or {}).get("name"),
        base=(manifest.get("base") or {}).get("spec"),
        base_gguf=out.get("base_gguf"),
        adapter_gguf=out.get("adapter_gguf"),
        model_gguf=out.get("model_gguf"),
        ollama_model=out.get("ollama_model"),
        ollama_host=out.get("ollama_host"),
        family=out.get("family"),
        architecture=(manifest.get("base") or {}).get("architecture"),
        system_prompts=out.get("system_prompts") or {},
        main_channel=out.get("main_channel"),
        created=now(),
    )


def export_to_profile(
    profile: Profile, run_name: str, opts: ExportOptions, *, activate_it: bool = False, on_event: Event | None = None
) -> dict[str, Any]:
    """Export run `run_name` as model `opts.name`; returns what was written (and the new llm config)."""
    check_name(opts.name, "model name")
    run = RunDir(profile.run_dir(run_name))
    out = export_run(run, folder(profile, opts.name), opts, on_event, stable=partial(stable_base, profile))
    record = record_for(out, run.manifest(), opts)
    out["record"] = str(save(profile, record))
    if activate_it:
        cfg = activate(profile, record.name)
        out["activated"] = cfg.model_dump(exclude_defaults=True)
    return out
