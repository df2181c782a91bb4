"""The search platform: cost model, tasks, study engine, Pareto analysis, reports, export, CLI."""

__all__: list[str] = []
