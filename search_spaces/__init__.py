"""Search spaces and architecture specs for Centaurus networks (what a search can sample)."""

__all__: list[str] = []
