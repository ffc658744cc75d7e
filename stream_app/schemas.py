"""JSON Schema files of the wire contract, generated from the pydantic models.

``python -m stream_app.schemas`` rewrites ``docs/schemas/``; a test keeps them current.
"""

from __future__ import annotations

import json
from pathlib import Path

from stream_app.domain.alerts import Alert
from stream_app.domain.events import WIRE_MODELS

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schemas"


def schemas() -> dict[str, str]:
    """File name -> JSON Schema text, for every input event kind and the alert."""
    out = {}
    for kind, model in WIRE_MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"vasowatch/{kind}.schema.json"
        out[f"{kind}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    alert = Alert.model_json_schema(mode="serialization")
    alert["$id"] = "vasowatch/alert.schema.json"
    out["alert.schema.json"] = json.dumps(alert, indent=2, sort_keys=True) + "\n"
    return out


if __name__ == "__main__":
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in schemas().items():
        (SCHEMA_DIR / name).write_text(text)
        print(SCHEMA_DIR / name)
