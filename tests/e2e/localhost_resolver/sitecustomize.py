"""Loaded by Python at start when this folder is on PYTHONPATH (test_host_prefix.py puts it
there only on a machine whose resolver does not answer `*.localhost` itself): resolves
every name under `.localhost` to the loopback address, as RFC 6761 says and as
systemd-resolved and glibc's nss-myhostname do, so the AWS CLI's and botocore's own
`sync-` host prefix is exercised end to end on any machine."""

import socket

_getaddrinfo = socket.getaddrinfo


def _localhost_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.lower().rstrip(".").endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _localhost_getaddrinfo
