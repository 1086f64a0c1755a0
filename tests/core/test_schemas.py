"""The figures schemas: the published page is rendered from them, and they are valid JSON Schemas."""

import jsonschema

from ci_helper import schemas
from tests.conftest import REPO_ROOT


def test_the_docs_page_is_rendered_from_the_schemas():
    # Regenerate with: python -m ci_helper.schemas > docs/results-schemas.md
    assert (REPO_ROOT / "docs" / "results-schemas.md").read_text(encoding="utf-8") == schemas.markdown()


def test_every_schema_is_a_closed_object_schema():
    for check in schemas.known_checks():
        doc = schemas.schema(check)
        jsonschema.Draft202012Validator.check_schema(doc)
        assert (doc["type"], doc["additionalProperties"]) == ("object", False), check
        assert set(doc["required"]) <= set(doc["properties"]), check
        assert all(prop.get("title") for prop in doc["properties"].values()), check
