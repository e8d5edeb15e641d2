"""render_mail: subject, text and HTML templates, escaping, component templates, and a
rendered message sent through a real SMTP server whose link is followed (issue 5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

from heron import App, Request
from heron.mail import mailer, render_mail, send_mail
from heron.templating import TemplateNotFound
from heron.testing import TestClient
from heron.testing.smtp import SMTPServer

AppFactory = Callable[..., App]
SCRIPT = "<script>alert(1)</script>"


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """The app's templates folder, with a welcome mail in three parts."""
    folder = tmp_path / "templates"
    write(folder, "mail/welcome.subject.txt", "Welcome,\n  {{ name }}!\n")
    write(folder, "mail/welcome.txt", "Hello {{ name }} & co,\nyour code: {{ code }}\n")
    write(folder, "mail/welcome.html",
          "<p>Hello {{ name }} &amp; co,</p>\n<p>Code: <b>{{ code }}</b></p>\n")
    return folder


@pytest.fixture
def mail_app(make_app: AppFactory, templates: Path) -> App:
    return make_app(mail_backend="memory", root=templates.parent)


def test_render_mail_uses_the_three_templates(mail_app: App) -> None:
    message = render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 42},
                          ["ada@example.com"])

    assert message.subject == "Welcome, Ada!"  # whitespace and line breaks collapsed
    assert message.body == "Hello Ada & co,\nyour code: 42"
    assert message.html == "<p>Hello Ada &amp; co,</p>\n<p>Code: <b>42</b></p>"
    assert message.to == ["ada@example.com"]


def test_html_is_autoescaped_and_text_is_not(mail_app: App) -> None:
    message = render_mail(mail_app, "mail/welcome", {"name": SCRIPT, "code": "<1&2>"},
                          ["ada@example.com"])

    assert SCRIPT in message.subject
    assert SCRIPT in message.body
    assert "your code: <1&2>" in message.body
    assert message.html is not None
    assert SCRIPT not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "&lt;1&amp;2&gt;" in message.html


def test_a_subject_cannot_inject_headers(mail_app: App) -> None:
    message = render_mail(mail_app, "mail/welcome",
                          {"name": "x\r\nBcc: victim@example.com", "code": 1},
                          ["ada@example.com"])
    assert message.subject == "Welcome, x Bcc: victim@example.com!"
    assert "\n" not in message.subject
    assert "\r" not in message.subject


def test_without_an_html_template_the_message_is_text_only(mail_app: App,
                                                          templates: Path) -> None:
    (templates / "mail" / "welcome.html").unlink()

    message = render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1},
                          ["ada@example.com"])

    assert message.html is None
    assert message.to_mime("site@example.com").get_content_type() == "text/plain"


def test_an_html_template_including_a_missing_one_is_an_error(mail_app: App,
                                                             templates: Path) -> None:
    """Not a text-only message: the HTML template exists, a template it needs does not."""
    write(templates, "mail/welcome.html", "{% include 'mail/footer.html' %}")

    with pytest.raises(jinja2.TemplateNotFound, match="footer"):
        render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1}, ["ada@example.com"])


@pytest.mark.parametrize("missing", ["welcome.subject.txt", "welcome.txt"])
def test_the_subject_and_text_templates_are_required(mail_app: App, templates: Path,
                                                    missing: str) -> None:
    (templates / "mail" / missing).unlink()

    with pytest.raises(TemplateNotFound, match=re.escape(f"mail/{missing}")):
        render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1}, ["ada@example.com"])


def test_render_mail_passes_other_fields(mail_app: App) -> None:
    message = render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1},
                          ("ada@example.com",), cc=["boss@example.com"],
                          from_email="team@example.com", headers={"X-Kind": "welcome"})

    assert (message.to, message.cc) == (["ada@example.com"], ["boss@example.com"])
    assert message.from_email == "team@example.com"
    assert message.headers == {"X-Kind": "welcome"}
    with pytest.raises(TypeError, match="list of addresses"):
        render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1}, "ada@example.com")


def test_templates_use_the_app_filters_and_globals(mail_app: App, templates: Path) -> None:
    mail_app.templates.add_filter("shout", lambda value: f"{value}".upper())
    write(templates, "mail/welcome.txt", "{{ name|shout }} on {{ config.mail_backend }}")

    message = render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1},
                          ["ada@example.com"])

    assert message.body == "ADA on memory"


async def test_a_rendered_message_goes_to_the_outbox(mail_app: App) -> None:
    message = render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 7},
                          ["ada@example.com"])

    assert await mailer(mail_app).send(message) == 1
    (sent,) = mailer(mail_app).outbox
    assert sent.subject == "Welcome, Ada!"


def test_a_mailed_link_is_followed_from_the_real_smtp_server(
        make_app: AppFactory, smtp_server: SMTPServer, templates: Path) -> None:
    """The shape of a password reset: a view mails a link; the test reads the message the
    SMTP server received and follows the link."""
    write(templates, "mail/confirm.subject.txt", "Confirm your address")
    write(templates, "mail/confirm.txt", "Open this link to confirm:\n{{ link }}\n")
    write(templates, "mail/confirm.html", '<p><a href="{{ link }}">Confirm</a></p>')
    app = make_app(**smtp_server.mail_settings(), root=templates.parent, csrf=False)
    confirmed: list[str] = []

    @app.post("/signup")
    async def signup(request: Request) -> dict[str, str]:
        address = (await request.json())["email"]
        link = request.url_for("confirm", token="tok-" + address.split("@")[0])
        await mailer(request.app).send(
            render_mail(request.app, "mail/confirm", {"link": link}, [address]))
        return {"status": "mailed"}

    @app.get("/confirm/{token}", name="confirm")
    def confirm(token: str) -> str:
        confirmed.append(token)
        return "confirmed"

    with TestClient(app) as client:
        assert client.post("/signup", json={"email": "ada@example.com"}).json() == {
            "status": "mailed"}
        (received,) = smtp_server.wait_for(1)
        assert received.recipients == ("ada@example.com",)
        assert received.subject == "Confirm your address"
        assert received.text is not None
        assert received.html is not None
        link = re.search(r"https?://\S+", received.text)
        assert link is not None
        assert f'href="{link.group()}"' in received.html
        assert client.get(link.group()).text == "confirmed"
    assert confirmed == ["tok-ada"]


async def test_send_mail_with_rendered_parts(mail_app: App) -> None:
    """render_mail's parts can also go through send_mail."""
    message = render_mail(mail_app, "mail/welcome", {"name": "Ada", "code": 1},
                          ["ada@example.com"])
    await send_mail(mail_app, message.subject, message.body, message.to, html=message.html)
    assert mailer(mail_app).outbox[0].html == message.html
