"""Settings, read from the environment (LIVEDESK_*) or a .env file."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def parse_networks(value: str) -> tuple[Network, ...]:
    """`0` (or nothing): none; `1`: loopback only; else comma-separated networks (CIDR)."""
    value = value.strip()
    if value.lower() in ("", "0", "false", "no"):
        return ()
    if value.lower() in ("1", "true", "yes"):
        return LOOPBACK
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"neither 0, 1 nor a comma-separated list of networks: {value[:200]}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVEDESK_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./livedesk.db"
    broker_url: str = "memory://"
    site_name: str = "livedesk"
    site_outlet: str = "livedesk"  # name of the site's own outlet
    time_zone: str = "UTC"  # the zone of the newsroom's events (IANA name): readers may show times in it
    # the site's public address (https://news.example) for feeds, canonical and shared links;
    # unset: each request's own address (scheme as a trusted proxy gives it, and Host)
    public_url: str | None = None
    keepalive_s: float = 15.0
    # how often a desk page says what its user is doing; one silent for three beats drops off the desk
    presence_beat_s: float = Field(5.0, gt=0)
    readers_report_s: float = Field(2.0, gt=0)  # how often a node tells the others its open readers
    catchup_poll_s: float = 3.0  # safety net: look for missed changes this often
    reader_buffer_bytes: int = 1_000_000  # a reader further behind is disconnected
    replay_memory_bytes: int = Field(8_000_000, ge=0)  # newest changes kept in memory for reconnecting readers
    scheduler_interval_s: float = 1.0
    # private networks other outlets' pages may be fetched from (loopback for `1`)
    fetch_allow_private: Annotated[tuple[Network, ...], NoDecode] = ()
    poll_sources: bool = True  # this node takes its share of polling other outlets' sources
    oembed: bool = True  # fill embed cards from the providers' oEmbed endpoints (guarded fetch)
    poll_tick_s: float = 1.0  # how often a node looks for sources that are due
    min_poll_interval_s: int = 15  # the shortest poll interval a source may ask for
    node_id: str = ""  # names this node in source leases; default: host and process id
    max_body_bytes: int = 100_000
    max_media: int = 20
    rates_path: str | None = None  # ECB-style XML or CSV file or URL
    partner_feeds: str = ""  # comma-separated feed URLs or paths
    secret_key: str | None = None  # signs CSRF tokens; made and kept in the database if unset
    # desk passwords' hashing: `standard` (Argon2id at its usual cost); `test` is the lowest cost,
    # only for test suites (tests/conftest.py), never for a site people sign in to
    password_cost: Literal["standard", "test"] = "standard"
    login_failures_per_minute: int = 5  # per user name and address; more get HTTP 429
    session_idle_hours: float = Field(12.0, gt=0)  # a desk session unused this long ends
    session_max_days: float = Field(14.0, gt=0)  # and any desk session ends this long after sign-in
    # proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (`1`: loopback, `0`: none)
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = LOOPBACK
    semantic: Literal["auto", "off"] = "auto"  # sentence embeddings in alignment, when the extra is installed
    # WebSub: the hub the feeds declare: `self` (this site is the hub), `off`, or another hub's URL
    websub_hub: str = "self"
    websub_tick_s: float = Field(1.0, gt=0)  # how often a node looks for due deliveries and renewals
    websub_retry_s: float = Field(5.0, gt=0)  # the first retry of a failed delivery; doubled each time
    websub_attempts: int = Field(8, ge=1)  # deliveries that failed this often are dropped
    websub_min_lease_s: int = Field(300, ge=1)  # leases subscribers may ask for, and the default
    websub_max_lease_s: int = Field(864_000, ge=1)
    websub_lease_s: int = Field(86_400, ge=60)  # the lease livedesk asks of other outlets' hubs
    websub_safety_poll_s: int = Field(900, ge=15)  # a source whose hub pushes is still polled this often
    # Uploaded photos' renditions go to the database unless an S3-compatible bucket is named here:
    # its endpoint (https://s3.eu-north-1.amazonaws.com, or another service's address) and bucket.
    # Readers still get them from this site's /media/ addresses, which every node answers.
    media_s3_url: str | None = None
    media_s3_bucket: str = ""
    media_s3_region: str = "us-east-1"
    media_s3_prefix: str = "media/"  # put before each rendition's name in the bucket
    # the bucket's keys; unset: the usual AWS_* variables or credentials files of the machine
    media_s3_access_key: str | None = None
    media_s3_secret_key: SecretStr | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"not a time zone name (such as Europe/Lisbon): {value[:100]}") from None
        return value

    @model_validator(mode="after")
    def _bucket(self) -> Settings:
        if self.media_s3_url:
            if not self.media_s3_url.startswith(("http://", "https://")):
                raise ValueError(f"media_s3_url is not an http(s) address: {self.media_s3_url[:200]}")
            if not self.media_s3_bucket:
                raise ValueError("media_s3_url is set but media_s3_bucket names no bucket")
        return self

    @field_validator("fetch_allow_private", "trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        return parse_networks(str(value)) if isinstance(value, (str, bool, int)) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
