"""The ``library`` component: its models are in ``library.models``."""
