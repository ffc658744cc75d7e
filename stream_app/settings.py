"""The one settings model: built once at start-up (in ``cli.py``) and passed down.

Every value can be set from the environment with the ``VASOWATCH_`` prefix, for
example ``VASOWATCH_KAFKA_BOOTSTRAP_SERVERS=broker-1:9092``. No module reads the
environment or a global settings object on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stream_app.exceptions import ConfigurationError

ENV_PREFIX = "VASOWATCH_"

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
LogFormat = Literal["auto", "json", "text"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


# Every topic the project owns, by setting name.
TOPIC_FIELDS = (
    "topic_arterial",
    "topic_infusions",
    "topic_observations",
    "topic_acks",
    "topic_alerts",
    "topic_deadletter",
)


class Settings(BaseSettings):
    """Runtime configuration of every vasowatch command."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", case_sensitive=False
    )

    # -- broker -------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated host:port list of Kafka brokers."
    )
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None

    # -- topics -------------------------------------------------------------
    topic_arterial: str = "icu.arterial"
    topic_infusions: str = "icu.infusions"
    topic_observations: str = "icu.observations"
    topic_acks: str = "icu.alert-acks"
    topic_alerts: str = "icu.alerts"
    topic_deadletter: str = "icu.deadletter"
    topic_partitions: int = Field(12, ge=1, le=1024)
    topic_replication_factor: int = Field(1, ge=1, le=16)

    # -- worker -------------------------------------------------------------
    app_id: str = Field("vasowatch", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    rules_dir: Path = Path("rules")
    data_dir: Path = Path(".cache/worker")
    # Messages of one fetch handed to the processor at once: at 1,000 beds, 2,000
    # drained 15,700 events/s and 10,000 drained 19,300 (bench.worker_bench, when each
    # touched bed's state was written once per batch). Behind nothing, fetches are small.
    batch_max_events: int = Field(10_000, ge=1, le=100_000)
    # Event-time alignment across topics (stream/aligner.py) waits for a partition that
    # has unread data at the broker; this is the last-resort limit when the broker's
    # high watermark is unknown.
    align_idle_s: float = Field(5.0, ge=0, le=60)
    # Longest a fetch waits at the broker for data to arrive. The aligner holds a
    # message until a fetch answered after it shows the sibling topics caught up; a
    # fetch of caught-up partitions only answers after this wait, so it bounds how long
    # such a message waits (Faust's fixed 1.5 s made a drain's last records wait
    # seconds). Lower costs more empty fetches when the feeds are quiet.
    fetch_max_wait_ms: int = Field(100, ge=1, le=5_000)
    # While the broker holds unread input for the worker (a backlog), a touched bed's
    # state is written to the changelog at most once per this interval, and its
    # messages are acknowledged after that write; caught up, after every batch. A
    # crash reads that much input again (same alert ids). 0: every batch.
    state_write_interval_s: float = Field(1.0, ge=0, le=30)
    # ...and long enough that encoding the writes takes at most this share of a
    # drain's time: encoding a write of 10,000 beds took 0.14-0.36 s, so the next came
    # 2.8 s to 5 s (the ceiling below) later (``stream/state_writes.py``)...
    state_write_budget: float = Field(0.05, gt=0, le=1)
    # ...which is never longer than this (or the interval above), and so the most a
    # crash during a drain reads again.
    state_write_max_interval_s: float = Field(5.0, ge=0, le=60)
    # Largest record batch the producer builds per partition. aiokafka waits, when a
    # partition's batch is full, until the request before it has been answered; at
    # Faust's 16 KB that is four 3.6 KB bed states per broker round trip, and a
    # state write took 290 us at 1,000 beds (37 us at 512 KiB). It must stay below the
    # broker's and topics' message.max.bytes (1 MiB by default).
    producer_batch_bytes: int = Field(512 * 1024, ge=16 * 1024, le=16 * 1024 * 1024)
    tick_interval_s: float = Field(5.0, gt=0, le=300)
    # An owned input partition silent this long raises the worker's own blindness alert.
    partition_silence_s: float = Field(120.0, gt=0, le=86_400)
    broker_timeout_s: float = Field(20.0, gt=0, le=600)
    # How long a silent group member keeps its partitions: the longest time a dead
    # worker's beds go unwatched before a survivor takes them over. Heartbeats come
    # from Faust's consumer thread every tenth of this, so a long batch on the main
    # thread does not stop them; 20 s leaves room for pauses and keeps takeover of
    # 10,000 beds within 30 s.
    session_timeout_s: float = Field(20.0, ge=6, le=300)
    max_message_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Beds one worker holds state for; a message for a new bed beyond this is
    # dead-lettered (bed_capacity), so a flood of random bed ids cannot exhaust memory.
    max_beds: int = Field(20_000, ge=1, le=1_000_000)
    # -- web (health, metrics) ---------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=1, le=65535)
    # -- nurse-station board -------------------------------------------------
    board_host: str = "127.0.0.1"
    board_port: int = Field(8080, ge=1, le=65535)
    # Who may acknowledge: "name:token,name:token" (each sends "Authorization: Bearer
    # <token>" and is recorded as name) ...
    board_users: SecretStr | None = None
    # ... or, behind an authenticating reverse proxy, the request header naming the user
    # (e.g. X-Forwarded-User). With neither, the board is read-only.
    board_user_header: str | None = None

    # -- logging ------------------------------------------------------------
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "auto"

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _check_servers(cls, value: str) -> str:
        servers = [part.strip() for part in value.split(",") if part.strip()]
        if not servers:
            raise ValueError("needs at least one host:port")
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return ",".join(servers)

    @field_validator(*TOPIC_FIELDS)
    @classmethod
    def _check_topic(cls, value: str) -> str:
        allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if not 0 < len(value) <= 249 or not set(value) <= allowed:
            raise ValueError(f"{value!r} is not a valid Kafka topic name")
        return value

    @property
    def input_kinds(self) -> dict[str, str]:
        """Topics the worker consumes (keyed and co-partitioned by bed id) -> event kind."""
        return {
            self.topic_arterial: "arterial",
            self.topic_infusions: "infusion",
            self.topic_observations: "observation",
            self.topic_acks: "ack",
        }

    @property
    def all_topics(self) -> tuple[str, ...]:
        """Every topic the project owns and creates with an explicit partition count."""
        return tuple(str(getattr(self, name)) for name in TOPIC_FIELDS)


def suffixed_topics(suffix: str) -> dict[str, str]:
    """Every project topic's setting with its default name plus ``.suffix``: a topic set of
    its own for a test or a benchmark stage on a shared broker."""
    return {name: f"{Settings.model_fields[name].default}.{suffix}" for name in TOPIC_FIELDS}


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, turning a bad value into one clear line.

    Raises ``ConfigurationError`` naming the environment variable at fault, so the
    operator knows exactly which value to correct.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"{ENV_PREFIX}{field.upper()}: {error['msg']}")
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from None
