"""Settings read from the environment: typed, and a bad value ends a command in one line."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from conftest import run_cli
from livedesk.config import LOOPBACK, Settings
from livedesk.ingest.fetch import address_allowed


def settings(monkeypatch: pytest.MonkeyPatch, allow: str) -> Settings:
    monkeypatch.setenv("LIVEDESK_FETCH_ALLOW_PRIVATE", allow)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_fetch_allow_private_takes_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = settings(monkeypatch, "10.0.0.0/8, 127.0.0.1/32,fd00::/8").fetch_allow_private
    assert allowed == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"),
                       ipaddress.ip_network("fd00::/8"))
    assert address_allowed(ipaddress.ip_address("10.9.8.7"), allowed)
    assert not address_allowed(ipaddress.ip_address("192.168.1.1"), allowed)


@pytest.mark.parametrize("switch", ["1", "true", "TRUE"])
def test_the_switch_means_loopback_and_never_metadata(monkeypatch: pytest.MonkeyPatch, switch: str) -> None:
    allowed = settings(monkeypatch, switch).fetch_allow_private
    assert allowed == LOOPBACK
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), allowed)
    assert address_allowed(ipaddress.ip_address("::1"), allowed)
    for private in ("169.254.169.254", "fd00:ec2::254", "10.0.0.1", "192.168.0.10"):
        assert not address_allowed(ipaddress.ip_address(private), allowed), private


@pytest.mark.parametrize("off", ["", "0", "false"])
def test_off_allows_nothing_private(monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    assert settings(monkeypatch, off).fetch_allow_private == ()


def test_a_bad_value_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="networks"):
        settings(monkeypatch, "10.0.0.0/33")
    done = run_cli("event", "list", env={"LIVEDESK_FETCH_ALLOW_PRIVATE": "the office"}, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "livedesk: LIVEDESK_FETCH_ALLOW_PRIVATE: Value error, neither 0, 1 nor a comma-separated list of networks: the office"]


def test_settings_that_disagree_are_refused_in_one_line() -> None:
    done = run_cli("event", "list", env={"LIVEDESK_MEDIA_S3_URL": "http://127.0.0.1:9"}, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "livedesk: LIVEDESK_* settings: Value error, media_s3_url is set but media_s3_bucket names no bucket"]


def test_passwords_are_hashed_at_the_standard_cost_unless_a_test_suite_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import extract_parameters

    from livedesk.store.accounts import HASHERS, check_password

    monkeypatch.delenv("LIVEDESK_PASSWORD_COST", raising=False)
    assert Settings(_env_file=None).password_cost == "standard"  # type: ignore[call-arg]
    standard = HASHERS["standard"].hash("harbour-lights-42")
    assert extract_parameters(standard).memory_cost >= 65536
    # a hash keeps its own cost: a site's hashes check at either cost, and so do a test suite's
    assert check_password(standard, "harbour-lights-42", "test")
    assert check_password(HASHERS["test"].hash("quay"), "quay", "standard")
    assert not check_password(standard, "wrong", "test")
