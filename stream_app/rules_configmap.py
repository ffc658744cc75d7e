"""The rule pack as a Kubernetes ConfigMap, one key per file of the pack folder.

Generated rather than kept in ``deploy/k8s/`` so the cluster gets exactly the
files in ``rules/`` (a copy would drift). The pack is validated first: an invalid
pack never reaches a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stream_app.engine.registry import load_rule_pack

CONFIGMAP_NAME = "vasowatch-rules"


def rules_configmap(directory: Path, namespace: str = "vasowatch") -> dict[str, Any]:
    pack = load_rule_pack(directory)  # raises PackError on an invalid pack
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIGMAP_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "vasowatch"},
            "annotations": {
                "vasowatch/rulepack-version": pack.version,
                "vasowatch/rulepack-label": pack.settings.version_label,
            },
        },
        "data": {path.name: path.read_text() for path in sorted(directory.glob("*.yaml"))},
    }


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line values as literal blocks, so the ConfigMap reads like the files."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def rules_configmap_yaml(directory: Path, namespace: str = "vasowatch") -> str:
    manifest = rules_configmap(directory, namespace)
    return yaml.dump(manifest, Dumper=_LiteralDumper, sort_keys=False, width=100)
