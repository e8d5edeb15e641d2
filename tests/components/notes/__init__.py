"""A component whose router lives in its ``routes`` module, with a chosen name."""

component_name = "memo"
