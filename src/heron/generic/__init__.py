"""Generic views over heron.db models: list, detail, create, update and delete pages.

    from heron.generic import CreateView, DetailView, ListView

    app.add_route("/posts", ListView.as_view(model=Post, paginate_by=10))
    app.add_route("/posts/{id:int}", DetailView.as_view(model=Post))
    app.add_route("/posts/new", CreateView.as_view(model=Post, fields=["title", "body"],
                                                   success_url="post_detail"),
                  methods=["GET", "POST"])

They are :class:`~heron.views.MethodView` classes: configure them with class
attributes (in a subclass or through ``as_view(...)``), override their hooks,
route them like any view.  They use ``db.async_session``, heron.forms model
forms, Jinja templates named ``<component>/<model>_list.html`` (and so on), and
heron.auth's guards for ``login_required`` and ``permission_required``.
See docs/views.md.
"""

from heron.generic.views import (
    CreateView,
    DeleteView,
    DetailView,
    GenericView,
    ListView,
    ObjectView,
    UpdateView,
)

__all__ = [
    "CreateView",
    "DeleteView",
    "DetailView",
    "GenericView",
    "ListView",
    "ObjectView",
    "UpdateView",
]
