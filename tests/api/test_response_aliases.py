"""Response models answer by alias, as the OpenAPI document describes them (issue 18 item 3)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from heron import App
from heron.testing import TestClient


class ArticleAliasOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    slug: str
    tag_list: list[str]
    favorites_count: int = 0


class StrictAliasOut(BaseModel):
    """Aliases without ``populate_by_name``: a dict with Python's names still fits."""

    created_by: str = Field(alias="createdBy")


@dataclass
class ArticleRow:  # stands for an ORM object
    slug: str
    tag_list: list[str]
    favorites_count: int
    secret: str = "hidden"


def make_app(debug: bool = True) -> App:
    app = App(debug=debug, secret_key="response-aliases-" + "x" * 40)

    @app.get("/model")
    async def model() -> ArticleAliasOut:
        return ArticleAliasOut(slug="a", tag_list=["x"])

    @app.get("/dict")
    async def as_dict() -> ArticleAliasOut:
        return {"slug": "b", "tag_list": ["y"], "favorites_count": 2}  # type: ignore[return-value]

    @app.get("/aliased-dict")
    async def aliased_dict() -> ArticleAliasOut:
        return {"slug": "c", "tagList": [], "favoritesCount": 3}  # type: ignore[return-value]

    @app.get("/rows", response_model=list[ArticleAliasOut])
    async def rows() -> list[ArticleRow]:
        return [ArticleRow("d", ["z"], 4)]

    @app.post("/created", status_code=201, response_model=ArticleAliasOut)
    async def created() -> tuple[ArticleAliasOut, int]:
        return ArticleAliasOut(slug="e", tag_list=[]), 201

    @app.get("/strict")
    async def strict() -> StrictAliasOut:
        return {"created_by": "ann"}  # type: ignore[return-value]

    @app.get("/plain")
    async def plain():  # no response model: the default coercion, by alias too
        return ArticleAliasOut(slug="f", tag_list=["w"])

    @app.get("/bad")
    async def bad() -> ArticleAliasOut:
        return {"slug": "g"}  # type: ignore[return-value]  # tag_list missing

    return app


def test_a_response_model_answers_by_alias_whatever_the_view_returns() -> None:
    client = TestClient(make_app())
    assert client.get("/model").json() == {"slug": "a", "tagList": ["x"], "favoritesCount": 0}
    assert client.get("/dict").json() == {"slug": "b", "tagList": ["y"], "favoritesCount": 2}
    assert client.get("/aliased-dict").json() == {"slug": "c", "tagList": [],
                                                  "favoritesCount": 3}
    assert client.get("/rows").json() == [{"slug": "d", "tagList": ["z"], "favoritesCount": 4}]
    created = client.post("/created")
    assert (created.status_code, created.json()) == (201, {"slug": "e", "tagList": [],
                                                           "favoritesCount": 0})
    assert client.get("/strict").json() == {"createdBy": "ann"}
    assert client.get("/plain").json() == {"slug": "f", "tagList": ["w"], "favoritesCount": 0}


def test_the_answer_matches_the_document() -> None:
    client = TestClient(make_app())
    document = client.get("/openapi.json").json()
    schema = document["components"]["schemas"]["ArticleAliasOut"]
    answer = client.get("/dict").json()
    assert set(answer) == set(schema["properties"]) == {"slug", "tagList", "favoritesCount"}
    assert set(schema["required"]) <= set(answer)


def test_a_value_that_does_not_fit_is_a_logged_500_not_a_leak() -> None:
    response = TestClient(make_app(debug=False)).get("/bad", headers={"accept": "application/json"})
    assert response.status_code == 500
    assert "tag_list" not in response.text
