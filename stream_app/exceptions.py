"""One root for every vasowatch error.

Callers branch on ``retriable`` rather than on the class list: a retriable error
(the broker is briefly away) is retried with back-off, anything else is reported
once and handled by the one policy for its kind (dead letter, or stop start-up).
"""

from __future__ import annotations


class VasowatchError(Exception):
    """Root of all vasowatch errors."""

    retriable: bool = False


class ConfigurationError(VasowatchError):
    """Settings or the rule pack are unusable; the operator must correct them and restart."""


class BrokerUnavailableError(VasowatchError):
    """The Kafka broker did not answer; may succeed on a later attempt."""

    retriable = True


class LocalBrokerError(VasowatchError):
    """The project's own local broker could not be fetched, formatted or started."""
