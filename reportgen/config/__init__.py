"""Configuration: the manifest as frozen dataclasses, its located errors, signature-checked options, registries
and references to a user's own code. The lowest layer: it imports nothing else of reportgen's at module level."""
