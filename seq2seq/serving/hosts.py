"""Which Host names the service answers to, and whether other machines can reach it.

A web page on another site can make a browser send requests to a service on the browser's
machine by pointing a name of its own at 127.0.0.1 (DNS rebinding); the request then carries
that name in its Host header. The service answers only to names it knows: localhost, the name
it was started on, this machine's name when it listens on every interface, the names given
with --allowed-host, and any IP address (an address is not a name anyone can rebind).
"""

from __future__ import annotations

import ipaddress
import socket

LOCAL_NAMES = frozenset({"localhost"})
EVERY_INTERFACE = ("0.0.0.0", "::")


def answered_hosts(host: str, extra=()) -> tuple[str, ...]:
    """The names to answer to besides `LOCAL_NAMES` and IP addresses, for a service started on `host`."""
    names = [] if is_ip_address(host) else [host]
    if host in EVERY_INTERFACE:
        names.append(socket.gethostname())
    return tuple(dict.fromkeys(name.lower().rstrip(".") for name in [*names, *extra]))


def host_name(header: str) -> str:
    """The name in a Host header, lower case, without port: 'Example.org:80' -> 'example.org', '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    name, _, port = header.rpartition(":")
    return (name if name and port.isdigit() else header).rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def exposure_warning(host: str, token: str | None) -> str | None:
    """A warning for a service that other machines can reach without a token, else None."""
    if token or host in LOCAL_NAMES or (is_ip_address(host) and ipaddress.ip_address(host).is_loopback):
        return None
    return (
        f"warning: serving on {host} without a token: anyone who can reach this port can use the model; "
        "set SEQ2SEQ_TOKEN (or pass --token) to require one."
    )
