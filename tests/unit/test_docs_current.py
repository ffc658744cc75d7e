"""Generated documents stay in step with the code that generates them."""

from __future__ import annotations

from stream_app.docs_rules import RULES_DOC, rules_markdown
from stream_app.schemas import SCHEMA_DIR, schemas


def test_json_schemas_are_current() -> None:
    """docs/schemas/ is what the models generate (python -m stream_app.schemas)."""
    for name, text in schemas().items():
        assert (SCHEMA_DIR / name).read_text() == text, name


def test_rules_doc_is_current() -> None:
    """docs/rules.md is what the rule pack generates (python -m stream_app.docs_rules)."""
    assert RULES_DOC.read_text() == rules_markdown()
