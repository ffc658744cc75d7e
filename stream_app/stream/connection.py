"""Translating the settings' broker address and security into client options."""

from __future__ import annotations

import ssl
from typing import Any

import faust
from faust.types.auth import CredentialsT

from stream_app.settings import Settings


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context for SSL and SASL_SSL, else None."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile:
        password = settings.kafka_ssl_key_password
        context.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
            password.get_secret_value() if password else None,
        )
    return context


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments shared by every aiokafka client the project creates."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism or "SCRAM-SHA-512"
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """The same security for the Faust worker's own clients (consumer, producer, admin)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    password = settings.kafka_sasl_password
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=password.get_secret_value() if password else None,
        mechanism=settings.kafka_sasl_mechanism or "SCRAM-SHA-512",
        ssl_context=context,
    )
