# ruff: noqa
"""Network access: at import, connect to a port the test listens on (loopback), to a public
address over TCP and UDP, and resolve a host name."""

import socket

if ATTACK:
    for address in (("127.0.0.1", __PORT__), ("1.1.1.1", 443)):
        try:
            socket.create_connection(address, timeout=2).close()
            print(f"CONNECTED to {address}")
        except OSError as exc:
            print(f"no connection to {address}: {type(exc).__name__}: {exc}")
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("1.1.1.1", 53))
        print("SENT a UDP datagram")
    except OSError as exc:
        print(f"no UDP: {type(exc).__name__}: {exc}")
    try:
        print("RESOLVED", socket.getaddrinfo("example.com", 80)[0][4])
    except OSError as exc:
        print(f"no name resolution: {type(exc).__name__}")
