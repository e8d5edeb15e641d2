"""A component whose ``router`` is not a heron Router."""

router = object()
