"""A small catalogue with heron.admin, served by ``heron run`` for the Chromium test
(tests/browser/test_admin_browser.py).

The package is both the app (``admin_site.app:app``) and its one component,
"catalogue": ``models`` and the ``admin`` registrations are found the way a
project's component's are.  ``python -m admin_site.seed`` makes the tables and
the rows the test starts from.
"""

#: The component's label: the admin's URLs are ``/admin/catalogue/...``.
component_name = "catalogue"
