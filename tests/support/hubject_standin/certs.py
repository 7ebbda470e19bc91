"""Certificates for mutual TLS in tests: one CA, server certificates, client certificates."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pair:
    """A certificate and its key as PEM files."""

    cert: str
    key: str


@dataclass(frozen=True)
class Pki:
    """The CA bundle and the certificates each side of the bridge uses."""

    ca: str
    hubject_server: Pair  # the stand-in's HTTPS
    hubject_client: Pair  # the stand-in calling PlugPool
    plugpool_server: Pair  # PlugPool's HTTPS for /api/oicp
    plugpool_client: Pair  # PlugPool calling the stand-in
    stranger_client: Pair  # signed by another CA: must be refused


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> str:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def _ca(common: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], common: str, server: bool
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = datetime.now(UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(ca[1], hashes.SHA256()), key


def _pair(
    directory: Path, name: str, made: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
) -> Pair:
    cert_path = directory / f"{name}.crt"
    cert_path.write_bytes(made[0].public_bytes(serialization.Encoding.PEM))
    return Pair(str(cert_path), _write_key(made[1], directory / f"{name}.key"))


def make_pki(directory: Path) -> Pki:
    """Make a CA and every certificate the bridge tests need, as PEM files in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca("Test Hubject CA")
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca[0].public_bytes(serialization.Encoding.PEM))
    other = _ca("Somebody else's CA")
    return Pki(
        ca=str(ca_path),
        hubject_server=_pair(directory, "hubject-server", _leaf(ca, "localhost", True)),
        hubject_client=_pair(directory, "hubject-client", _leaf(ca, "Hubject", False)),
        plugpool_server=_pair(directory, "plugpool-server", _leaf(ca, "localhost", True)),
        plugpool_client=_pair(directory, "plugpool-client", _leaf(ca, "NL*PLG", False)),
        stranger_client=_pair(directory, "stranger-client", _leaf(other, "Stranger", False)),
    )
