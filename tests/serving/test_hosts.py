"""Host names the service answers to, and the warning for a service reachable without a token."""

from __future__ import annotations

import socket

import pytest

from seq2seq.serving.hosts import answered_hosts, exposure_warning, host_name, is_ip_address


@pytest.mark.parametrize(
    "header, name",
    [
        ("Example.org:8080", "example.org"),
        ("example.org.", "example.org"),
        ("localhost", "localhost"),
        ("[::1]:8000", "::1"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("", ""),
    ],
)
def test_the_host_name_is_read_without_port_case_or_final_dot(header, name):
    assert host_name(header) == name


def test_ip_addresses_are_told_from_names():
    assert is_ip_address("10.1.2.3") and is_ip_address("::1")
    assert not is_ip_address("localhost") and not is_ip_address("127.0.0.1.example.org")


def test_a_service_answers_to_its_own_name_the_machine_name_on_every_interface_and_extra_names():
    assert answered_hosts("127.0.0.1") == ()
    assert answered_hosts("My.Box.", ["api.example.org"]) == ("my.box", "api.example.org")
    assert answered_hosts("0.0.0.0") == (socket.gethostname().lower().rstrip("."),)


@pytest.mark.parametrize(
    "host, token, warned",
    [
        ("0.0.0.0", None, True),
        ("192.168.1.5", None, True),
        ("0.0.0.0", "s3cret", False),
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
    ],
)
def test_a_service_others_can_reach_without_a_token_is_warned_about(host, token, warned):
    warning = exposure_warning(host, token)
    assert (warning is not None) == warned
    if warned:
        assert warning.startswith(f"warning: serving on {host} without a token") and "SEQ2SEQ_TOKEN" in warning
