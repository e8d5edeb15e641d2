"""Drawing forms: accessible HTML, HTML5 types and constraints, escaping, the CSRF
field, per-field rendering and widgets a project overrides."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from forms_helpers import bind
from pydantic import EmailStr, HttpUrl, SecretStr

from heron import App, Request, UploadFile, render, render_async
from heron.forms import Form, ValidationError, Widget, field
from heron.testing import TestClient, extract_csrf_token

AppFactory = Callable[..., App]
SCRIPT = "<script>alert(1)</script>"


class Colour(enum.Enum):
    RED = "red"
    DARK_BLUE = "blue"


class Profile(Form):
    name: str = field(max_length=40, min_length=2, help_text="As on your badge.",
                      placeholder="Ann Smith")
    email: EmailStr
    site: HttpUrl | None
    age: int = field(ge=18, le=120)
    height: float | None
    budget: Decimal = field(decimal_places=2, max_digits=8)
    birthday: dt.date | None
    meeting: dt.datetime | None
    wake: dt.time | None
    colour: Colour
    colours: list[Colour] = []
    bio: str = field(default="", widget="textarea")
    code: str = field(default="", pattern="[a-z]+")
    password: SecretStr | None
    avatar: UploadFile | None
    terms: bool


def tag(html: str, name: str) -> str:
    """The opening tag of the element whose ``name`` attribute is ``name``."""
    match = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert match, f"no element named {name!r} in:\n{html}"
    return match.group(0)


def test_inputs_have_html5_types_and_constraints() -> None:
    html = str(Profile())
    assert tag(html, "name") == ('<input id="id_name" name="name" type="text" required '
                                 'aria-describedby="id_name-help" minlength="2" maxlength="40" '
                                 'placeholder="Ann Smith">')
    assert 'type="email" required' in tag(html, "email")
    assert 'type="url"' in tag(html, "site")
    assert "required" not in tag(html, "site")
    assert 'type="number" required min="18" max="120"' in tag(html, "age")
    assert 'step="any"' in tag(html, "height")
    assert 'step="0.01"' in tag(html, "budget")
    assert 'type="date"' in tag(html, "birthday")
    assert 'type="datetime-local"' in tag(html, "meeting")
    assert 'type="time"' in tag(html, "wake")
    assert tag(html, "colour") == '<select id="id_colour" name="colour" required>'
    assert tag(html, "colours") == '<select id="id_colours" name="colours" multiple>'
    assert '<option value="blue">Dark blue</option>' in html
    assert tag(html, "bio") == '<textarea id="id_bio" name="bio">'
    assert 'pattern="[a-z]+"' in tag(html, "code")
    assert 'type="password"' in tag(html, "password")
    assert 'type="file"' in tag(html, "avatar")
    assert tag(html, "terms") == ('<input id="id_terms" name="terms" type="checkbox" required '
                                  'value="on">')


def test_every_label_points_at_its_input() -> None:
    html = str(Profile())
    labels = re.findall(r'<label for="([^"]+)">', html)
    ids = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html)
    assert labels == ids
    assert len(ids) == len(Profile.field_specs())


def test_errors_are_tied_to_their_fields_with_aria() -> None:
    form = bind(Profile, name="A", email="x", age="12", budget="1", colour="red")
    html = str(form)
    assert 'aria-invalid="true" aria-describedby="id_name-help id_name-error"' in tag(html, "name")
    assert ('<ul class="errors" id="id_name-error">'
            "<li>Ensure this value has at least 2 characters.</li></ul>") in html
    assert 'aria-describedby="id_email-error"' in tag(html, "email")
    assert "aria-invalid" not in tag(html, "colour")  # valid fields are not marked
    assert "aria-invalid" not in tag(html, "budget")
    assert '<ul class="errors" id="id_terms-error"><li>This field is required.</li></ul>' in html


def test_submitted_values_come_back_escaped_and_passwords_do_not() -> None:
    form = bind(Profile, name=SCRIPT, email='a"b@x.com', bio="</textarea>" + SCRIPT,
                password="hunter22", colours=["red", "blue"], colour="blue", age="x",
                terms="on")
    html = str(form)
    assert "<script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in tag(html, "name")
    assert 'value="a&#34;b@x.com"' in tag(html, "email")
    assert "\n&lt;/textarea&gt;&lt;script&gt;" in html
    assert "hunter22" not in html
    assert 'value="x"' in tag(html, "age")  # invalid, yet shown as typed
    assert '<option value="blue" selected>Dark blue</option>' in html
    assert '<option value="red" selected>Red</option>' in html
    assert "checked" in html.split('name="terms"')[1].split(">")[0]


def test_labels_help_and_error_messages_are_escaped() -> None:
    class Hostile(Form):
        title: str = field(label=SCRIPT, help_text=SCRIPT, choices=[(SCRIPT, SCRIPT)])

        def clean_title(self, value: str) -> str:
            raise ValidationError(f"{value} is wrong")

    html = str(bind(Hostile, title=SCRIPT))
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5


def test_initial_values_are_shown_in_html_formats() -> None:
    form = Profile(initial={"birthday": dt.date(2000, 2, 29), "wake": dt.time(6, 30),
                            "meeting": dt.datetime(2024, 1, 2, 3, 4, 5),
                            "colours": [Colour.DARK_BLUE], "budget": Decimal("9.50"),
                            "terms": True, "password": SecretStr("x")})
    html = str(form)
    assert 'value="2000-02-29"' in tag(html, "birthday")
    assert 'value="06:30"' in tag(html, "wake")
    assert 'value="2024-01-02T03:04:05"' in tag(html, "meeting")
    assert 'value="9.50"' in tag(html, "budget")
    assert '<option value="blue" selected>' in html
    assert 'value="on" checked' in html
    assert 'name="password" type="password"' in html
    assert 'value="x"' not in html


def test_select_shows_an_empty_choice_unless_a_required_value_is_chosen() -> None:
    class Pick(Form):
        required: Colour
        optional: Colour | None
        preset: Colour = Colour.RED

    html = str(Pick())
    selects = re.findall(r"<select[^>]*>(.*?)</select>", html, re.S)
    assert ['<option value="">' in s for s in selects] == [True, True, False]


def test_radio_and_checkbox_groups_use_a_fieldset() -> None:
    class Survey(Form):
        colour: Colour = field(widget="radio", help_text="Pick one.")
        extras: list[str] = field(widget="checkboxes", choices=["milk", "sugar"], default=[])

    html = str(bind(Survey, extras=["sugar"]))
    assert ('<fieldset class="field field-colour required invalid" '
            'aria-describedby="id_colour-help id_colour-error">') in html
    assert "<legend>Colour</legend>" in html
    assert ('<label for="id_colour_0"><input type="radio" name="colour" id="id_colour_0" '
            'value="red" required aria-invalid="true"> Red</label>') in html
    assert ('<input type="checkbox" name="extras" id="id_extras_1" value="sugar" checked>'
            in html)


def test_a_form_with_files_is_multipart() -> None:
    assert Profile().is_multipart
    assert Profile().enctype == "multipart/form-data"

    class Plain(Form):
        name: str

    assert not Plain().is_multipart
    assert Plain().enctype == "application/x-www-form-urlencoded"


def test_hidden_fields_are_drawn_without_a_row() -> None:
    class WithHidden(Form):
        next: str = field(default="/", widget="hidden")
        name: str

    html = str(WithHidden())
    assert '<input id="id_next" name="next" type="hidden" value="/">' in html
    assert 'for="id_next"' not in html


def test_prefix_keeps_two_forms_apart() -> None:
    class Name(Form):
        name: str

    first = Name({"a-name": "Ann", "b-name": "Bob"}, prefix="a-")
    second = Name({"a-name": "Ann", "b-name": "Bob"}, prefix="b-")
    assert (first.data, second.data) == ({"name": "Ann"}, {"name": "Bob"})
    assert 'id="id_a-name" name="a-name"' in str(first)


# -- in an app: the CSRF field, templates, overrides -------------------------------


class Comment(Form):
    author: str = field(max_length=30, label="Your name")
    body: str = field(widget="textarea")

    def clean(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if data["author"].lower() in data["body"].lower():
            raise ValidationError("Please do not quote yourself.")
        return None


def comment_app(make_app: AppFactory, root: Path) -> App:
    app = make_app(root=root)

    @app.route("/comment", methods=["GET", "POST"])
    async def comment(request: Request) -> Any:
        form = await Comment.from_request(request)
        if form.is_valid():
            return {"saved": form.data}
        return render(request, "comment.html", form=form,
                      status_code=422 if form.is_bound else 200)

    @app.get("/async")
    async def comment_async(request: Request) -> Any:
        return await render_async(request, "comment.html", form=await Comment.from_request(request))

    return app


def write(root: Path, name: str, text: str) -> None:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def site(make_app: AppFactory, tmp_path: Path) -> TestClient:
    write(tmp_path, "comment.html", '<form method="post">{{ form }}<button>Send</button></form>'
          "|{{ form.author.label }}|{{ form.author.label_tag }}|{{ form.author.errors }}|"
          "{{ form.author }}")
    with TestClient(comment_app(make_app, tmp_path)) as client:
        yield client


def test_whole_form_rendering_includes_a_working_csrf_token(site: TestClient) -> None:
    page = site.get("/comment")
    assert page.status_code == 200
    token = extract_csrf_token(page.text)
    assert page.text.startswith(f'<form method="post"><input type="hidden" name="csrf_token" '
                                f'value="{token}">')
    saved = site.post("/comment", data={"author": "Ann", "body": "Nice", "csrf_token": token})
    assert saved.json() == {"saved": {"author": "Ann", "body": "Nice"}}
    assert site.post("/comment", data={"author": "Ann", "body": "x"}).status_code == 403


def test_per_field_rendering_in_a_template(site: TestClient) -> None:
    page = site.post("/comment", data={"author": "A" * 31, "body": "hi",
                                       "csrf_token": extract_csrf_token(site.get("/comment").text)})
    assert page.status_code == 422
    _, label, label_tag, errors, widget = page.text.split("|")
    assert label == "Your name"
    assert label_tag == '<label for="id_author">Your name</label>'
    assert errors == ('<ul class="errors" id="id_author-error"><li>Ensure this value has at '
                      "most 30 characters.</li></ul>")
    assert widget.startswith('<input id="id_author" name="author" type="text" required '
                             'aria-invalid="true" aria-describedby="id_author-error"')


def test_form_level_errors_are_shown_as_an_alert(site: TestClient) -> None:
    token = extract_csrf_token(site.get("/comment").text)
    page = site.post("/comment", data={"author": "Ann", "body": "ann says hi", "csrf_token": token})
    assert ('<ul class="errors" id="id_errors" role="alert"><li>Please do not quote yourself.'
            "</li></ul>") in page.text


def test_async_templates_draw_forms_too(site: TestClient) -> None:
    page = site.get("/async")
    assert '<textarea id="id_body" name="body" required>' in page.text
    assert extract_csrf_token(page.text)


def test_a_project_overrides_a_widget_template_by_name(make_app: AppFactory,
                                                       tmp_path: Path) -> None:
    write(tmp_path, "comment.html", "{{ form }}")
    write(tmp_path, "heron/forms/widgets/textarea.html",
          '<textarea class="fancy"{{ attrs }}>{{ value }}</textarea>')
    write(tmp_path, "heron/forms/row.html", "<p>{{ field.label_tag }}{{ field }}</p>")
    with TestClient(comment_app(make_app, tmp_path)) as client:
        page = client.get("/comment").text
    assert '<p><label for="id_body">Body</label><textarea class="fancy" id="id_body"' in page
    assert '<p><label for="id_author">Your name</label><input id="id_author"' in page


def test_a_custom_widget_and_extra_attributes(make_app: AppFactory, tmp_path: Path) -> None:
    class Rating(Form):
        stars: int = field(widget=Widget("stars.html", attrs={"class": "stars"}),
                           attrs={"data-max": 5}, ge=1, le=5)

    write(tmp_path, "stars.html", "<stars{{ attrs }}>{{ value }}</stars>")
    app = make_app(root=tmp_path)

    @app.get("/")
    def page(request: Request) -> Any:
        return render(request, "page.html", form=Rating(initial={"stars": 4}, request=request))

    write(tmp_path, "page.html", "{{ form.stars }}")
    with TestClient(app) as client:
        assert client.get("/").text == ('<stars id="id_stars" name="stars" required min="1" '
                                        'max="5" class="stars" data-max="5">4</stars>')


def test_an_unknown_widget_name_says_which_exist() -> None:
    class Bad(Form):
        name: str = field(widget="fancy")

    with pytest.raises(LookupError, match="No widget is named 'fancy'; the built-in ones are"):
        str(Bad())


def test_a_list_field_without_choices_draws_one_input_per_value() -> None:
    # Not the Python list as one value, which a second submission would send as one item.
    class Tags(Form):
        tags: list[str] = field(default_factory=list)
        ids: list[int] = field(default_factory=list, widget="hidden")

    html = str(bind(Tags, tags=["a", SCRIPT], ids=["1", "x"]))
    assert re.findall(r"<input[^>]*>", html) == [
        '<input id="id_tags" name="tags" type="text" value="a">',
        '<input name="tags" type="text" value="&lt;script&gt;alert(1)&lt;/script&gt;">',
        '<input id="id_ids" name="ids" type="hidden" aria-invalid="true" '
        'aria-describedby="id_ids-error" value="1">',
        '<input name="ids" type="hidden" aria-invalid="true" '
        'aria-describedby="id_ids-error" value="x">',
    ]
    assert '<input id="id_tags" name="tags" type="text">' in str(Tags())
    assert 'value="2"' in str(Tags(initial={"tags": ["b"], "ids": [2]}))
