"""The settings model: defaults, environment overrides and one-line errors."""

from __future__ import annotations

import pytest

from stream_app.exceptions import ConfigurationError
from stream_app.settings import Settings, load_settings


def test_defaults_name_the_contract_topics() -> None:
    """The default topic names are the ones the contract and the gateways use."""
    settings = Settings()
    assert list(settings.input_kinds) == [
        "icu.arterial",
        "icu.infusions",
        "icu.observations",
        "icu.alert-acks",
    ]
    assert settings.topic_partitions == 12


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """VASOWATCH_-prefixed variables set the values."""
    monkeypatch.setenv("VASOWATCH_KAFKA_BOOTSTRAP_SERVERS", "a:1, b:2")
    monkeypatch.setenv("VASOWATCH_TOPIC_PARTITIONS", "3")
    settings = load_settings()
    assert settings.kafka_bootstrap_servers == "a:1,b:2"
    assert settings.topic_partitions == 3


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VASOWATCH_KAFKA_BOOTSTRAP_SERVERS", "no-port"),
        ("VASOWATCH_TOPIC_PARTITIONS", "0"),
        ("VASOWATCH_WEB_PORT", "http"),
        ("VASOWATCH_TOPIC_ALERTS", "bad topic!"),
        ("VASOWATCH_LOG_FORMAT", "xml"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A bad value stops start-up with a message that names the variable to fix."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message


def test_settings_are_frozen() -> None:
    """Settings are built once and cannot be changed on the way down."""
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.topic_partitions = 5  # type: ignore[misc]


def test_secrets_are_not_shown() -> None:
    """A SASL password never appears in the settings' text form."""
    settings = Settings(kafka_sasl_password="hunter2")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())
