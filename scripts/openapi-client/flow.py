"""A scripted flow through a client generated from peter's OpenAPI document.

Usage: flow.py BASE_URL TOKEN CERT_PEM KEY_PEM CHAIN_PEM
(the generated package `peter_admin_api_client` must be importable).
Exits non-zero at the first thing that is not as expected.
"""

import sys
from pathlib import Path

from peter_admin_api_client import AuthenticatedClient
from peter_admin_api_client.api.certificate_signed import (
    certificate_signed_file,
    certificate_signed_mark,
    certificate_signed_upload,
)
from peter_admin_api_client.api.domain import domain_config, domain_focus, domain_new
from peter_admin_api_client.models import (
    CertificateMarkFields,
    CertificateUploadFields,
    DomainNew,
    ErrorBody,
)
from peter_admin_api_client.models.certificate_file import CertificateFile
from peter_admin_api_client.models.certificate_mark import CertificateMark


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


base, token, cert_path, key_path, chain_path = sys.argv[1:6]
cert = Path(cert_path).read_text()
key = Path(key_path).read_text()
chain = Path(chain_path).read_text()
client = AuthenticatedClient(base_url=base, token=token)

created = domain_new.sync(client=client, body=DomainNew(domain_name="Client.Example.com"))
check(created is not None and not isinstance(created, ErrorBody), f"domain created: {created}")
check(created.is_created, "is_created is true")
name = created.to_dict()["Domain"]["domain_name"]
check(name == "client.example.com", f"name normalised: {name}")

uploaded = certificate_signed_upload.sync(
    client=client,
    body=CertificateUploadFields(
        certificate_file=cert, private_key_file_pem=key, chain_file=chain
    ),
)
check(uploaded is not None and not isinstance(uploaded, ErrorBody), f"upload: {uploaded}")
cert_id = uploaded.to_dict()["CertificateSigned"]["id"]
check(uploaded.to_dict()["CertificateSigned"]["created"], "certificate recorded")

config = domain_config.sync("client.example.com", client=client).to_dict()
single = config["certificate_signed__latest_single"]
check(single is not None and single["id"] == str(cert_id), f"config.json serves {cert_id}")
check(single["certificate"]["pem"] == cert, "config.json carries the certificate PEM")
check(single["fullchain"]["pem"] == cert + chain, "fullchain = certificate + chain")

pem = certificate_signed_file.sync_detailed(
    cert_id, CertificateFile("cert.pem"), client=client
)
check(pem.status_code == 200 and pem.content.decode() == cert and pem.headers["content-type"] == "application/x-pem-file", "cert.pem downloads byte for byte")

marked = certificate_signed_mark.sync(
    cert_id, client=client, body=CertificateMarkFields(action=CertificateMark.INACTIVE)
)
check(
    marked is not None and marked.to_dict()["CertificateSigned"]["is_active"] is False,
    "marked inactive",
)
config = domain_config.sync("client.example.com", client=client).to_dict()
check(config["certificate_signed__latest_single"] is None, "config.json no longer serves it")

missing = domain_focus.sync("nobody.example.com", client=client)
check(isinstance(missing, ErrorBody) and missing.result == "error", "unknown domain: error document")

print("generated-client flow: all good")
