"""Where a delivery may go: the name is resolved once, the address checked, and the connection
made to that very address (no second lookup a rebinding DNS server could answer otherwise)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import WebhookError

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL: the Host header and the TLS server name
    port: int
    address: str  # the checked IP address the connection goes to
    path: str  # path and query


def parse_url(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an endpoint URL, or a `bad_url` error."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookError("bad_url", _("Not a valid URL: %(error)s"), params={"error": error}) from None
    if parts.scheme not in DEFAULT_PORTS:
        raise WebhookError("bad_url", _("The URL must start with http:// or https://."))
    if not parts.hostname:
        raise WebhookError("bad_url", _("The URL has no host name."))
    if parts.username or parts.password:
        raise WebhookError("bad_url", _("The URL must not carry a user name or password."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], path


def is_public(address: str) -> bool:
    """Not private, loopback, link-local, multicast, reserved or unspecified (IPv4-mapped
    IPv6 addresses are judged as the IPv4 address they carry)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str) -> Target:
    """Resolve the URL's host and pick an address allowed to receive deliveries."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookError(
            "unresolvable", _("The host name %(host)s does not resolve."), params={"host": repr(host)}
        ) from None
    addresses = [str(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            # Every address must be public: a name that also resolves to an inside address is
            # refused whole, whichever one a connection would have picked.
            raise WebhookError(
                "private_address",
                _("%(host)s resolves to %(address)s, a private, loopback or link-local address."),
                params={"host": host, "address": refused[0]},
            )
    return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)
