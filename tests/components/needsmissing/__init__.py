"""A component that imports a package which is not installed."""

import heron_package_that_does_not_exist  # noqa: F401
