/**
 * The scripted flow of ../flow.py, through a typed client made by
 * openapi-typescript (types) + openapi-fetch (requests) from peter's
 * OpenAPI document.
 *
 * Usage: node build/flow.js BASE_URL TOKEN CERT_PEM KEY_PEM CHAIN_PEM
 * (run.sh generates generated/schema.d.ts and compiles this file first).
 *
 * The domain is "Client.Example.com", as in flow.py. PETER_FLOW_DOMAIN may
 * name another (mixed case is fine: it must come back lowercased) so that the
 * flow can run again against a server that already holds client.example.com;
 * the certificate files must then be for that name.
 *
 * Exits non-zero at the first thing that is not as expected.
 */

import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type ErrorBody = components["schemas"]["ErrorBody"];

/** Passes or ends the run; `detail` (what came back) is printed on failure only. */
function check(condition: boolean, what: string, detail?: () => string): asserts condition {
  if (!condition) {
    console.error(`FAILED: ${what}${detail === undefined ? "" : `: ${detail()}`}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

/** What came back, for a failure message. */
function show(status: number, body: unknown): string {
  return `HTTP ${status} ${JSON.stringify(body)}`;
}

async function main(argv: readonly string[]): Promise<void> {
  const [base, token, certPath, keyPath, chainPath] = argv;
  if (
    base === undefined ||
    token === undefined ||
    certPath === undefined ||
    keyPath === undefined ||
    chainPath === undefined
  ) {
    console.error("usage: flow.js BASE_URL TOKEN CERT_PEM KEY_PEM CHAIN_PEM");
    process.exit(2);
  }
  const cert = readFileSync(certPath, "utf8");
  const key = readFileSync(keyPath, "utf8");
  const chain = readFileSync(chainPath, "utf8");
  const requested = process.env["PETER_FLOW_DOMAIN"] ?? "Client.Example.com";
  const expectedName = requested.toLowerCase();

  const client = createClient<paths>({
    baseUrl: base,
    headers: { Authorization: `Bearer ${token}` },
  });

  // domain/new
  const created = await client.POST("/.well-known/peter_sslers/domain/new", {
    body: { domain_name: requested },
  });
  check(
    created.data !== undefined,
    "domain created",
    () => show(created.response.status, created.data ?? created.error),
  );
  check(created.data.is_created, "is_created is true");
  const name = created.data.Domain.domain_name;
  check(name === expectedName, `name normalised: ${name}`);

  // certificate-signed/upload
  const uploaded = await client.POST("/.well-known/peter_sslers/certificate-signed/upload", {
    body: { certificate_file: cert, private_key_file_pem: key, chain_file: chain },
  });
  check(
    uploaded.data !== undefined,
    "certificate uploaded",
    () => show(uploaded.response.status, uploaded.data ?? uploaded.error),
  );
  const certId = uploaded.data.CertificateSigned.id;
  check(uploaded.data.CertificateSigned.created, "certificate recorded");

  // domain/{identifier}/config.json
  const config = await client.GET("/.well-known/peter_sslers/domain/{identifier}/config.json", {
    params: { path: { identifier: expectedName } },
  });
  check(
    config.data !== undefined,
    "config.json read",
    () => show(config.response.status, config.data ?? config.error),
  );
  const single = config.data.certificate_signed__latest_single;
  check(
    single !== undefined && single !== null && single.id === String(certId),
    `config.json serves ${certId}`,
    () => JSON.stringify(single),
  );
  check(single.certificate.pem === cert, "config.json carries the certificate PEM");
  check(single.fullchain.pem === cert + chain, "fullchain = certificate + chain");

  // certificate-signed/{id}/{file}: bytes, so read them as text
  const pem = await client.GET("/.well-known/peter_sslers/certificate-signed/{id}/{file}", {
    params: { path: { id: certId, file: "cert.pem" } },
    parseAs: "text",
  });
  check(
    pem.response.status === 200 &&
      pem.data === cert &&
      pem.response.headers.get("content-type") === "application/x-pem-file",
    "cert.pem downloads byte for byte",
    () => `HTTP ${pem.response.status} ${pem.response.headers.get("content-type")} ${JSON.stringify(pem.data ?? pem.error)}`,
  );

  // certificate-signed/{id}/mark
  const marked = await client.POST("/.well-known/peter_sslers/certificate-signed/{id}/mark", {
    params: { path: { id: certId } },
    body: { action: "inactive" },
  });
  check(
    marked.data !== undefined && marked.data.CertificateSigned.is_active === false,
    "marked inactive",
    () => show(marked.response.status, marked.data ?? marked.error),
  );
  const after = await client.GET("/.well-known/peter_sslers/domain/{identifier}/config.json", {
    params: { path: { identifier: expectedName } },
  });
  check(
    after.data !== undefined && after.data.certificate_signed__latest_single === null,
    "config.json no longer serves it",
    () => show(after.response.status, after.data ?? after.error),
  );

  // domain/{identifier} for a name peter does not hold
  const missing = await client.GET("/.well-known/peter_sslers/domain/{identifier}", {
    params: { path: { identifier: "nobody.example.com" } },
  });
  const missingError: ErrorBody | undefined = missing.error;
  check(
    missingError !== undefined && missingError.result === "error",
    "unknown domain: error document",
    () => show(missing.response.status, missing.error ?? missing.data),
  );

  console.log("openapi-fetch flow: all checks passed");
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error("FAILED:", err);
  process.exit(1);
});
