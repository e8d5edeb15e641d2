"""The Django app holding the peer's two models (``djdb.models``)."""
