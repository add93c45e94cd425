// The provisioning bundle (sdk/src/provisioning.ts, docs/protocol.md §9): a valid bundle parses
// from its JSON text and from the parsed object alike, and every way a bundle can be wrong fails
// with its own code and names the field; the gateway client takes a bundle in place of url,
// master and context, refuses one made for another device or mixed with those parameters, and
// sends the bundle's secret with its ticket request. The bundle `iomt-gateway enrol` really prints,
// fed to a client that associates and sends, is in gateway/test/provisioning.test.ts.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { getAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createGatewayClient, groupId, parseProvisioningBundle, PROVISIONING_FORMAT, ProvisioningError, toId, type ProvisioningBundle } from "../src/index.js";
import { expectCode, rejection } from "./support/expect.js";
import { freePort } from "./support/ports.js";

const device = privateKeyToAccount(generatePrivateKey());
const master = privateKeyToAccount(generatePrivateKey());
const registry = privateKeyToAccount(generatePrivateKey()).address;

/** A bundle as the gateway writes it: lower-case addresses are accepted and checksummed. */
const example = {
  format: "iomt-auth/provisioning",
  version: 1,
  gatewayUrl: "https://ward-3.gateway.hospital.example:8443",
  chainId: 2026,
  registry: registry.toLowerCase(),
  gid: toId("ward-3"),
  master: master.address.toLowerCase(),
  oid: toId("ward-3/ecg-1"),
  device: device.address,
  secret: "K7QW2MZPHX4R93TDL5VA",
};

const without = (field: keyof typeof example) => Object.fromEntries(Object.entries(example).filter(([name]) => name !== field));

/** Asserts `ProvisioningInvalidField` naming `field`. */
function expectInvalidField(input: unknown, field: string): void {
  const error = expectCode(() => parseProvisioningBundle(input), ProvisioningError, "ProvisioningInvalidField");
  expect(error.field, error.message).to.equal(field);
}

describe("provisioning bundle", () => {
  describe("parseProvisioningBundle: a valid bundle", () => {
    it("parses the JSON text and the parsed object to the same bundle, addresses checksummed", () => {
      const expected: ProvisioningBundle = {
        ...example,
        format: PROVISIONING_FORMAT,
        version: 1,
        registry: getAddress(registry),
        master: master.address,
        device: device.address,
        gid: example.gid as Hex,
        oid: example.oid as Hex,
      };
      expect(parseProvisioningBundle(JSON.stringify(example, null, 2))).to.deep.equal(expected);
      expect(parseProvisioningBundle(example)).to.deep.equal(expected);
    });

    it("parses the example of docs/protocol.md §9, whose ids are the ones it says", async () => {
      const protocol = await readFile(new URL("../../docs/protocol.md", import.meta.url), "utf8");
      const section = protocol.slice(protocol.indexOf("## 9. Provisioning bundle"));
      const json = /^```json\n([\s\S]*?)^```/m.exec(section);
      expect(json, "a ```json block in §9").not.to.equal(null);
      const bundle = parseProvisioningBundle(json![1]);
      expect(bundle.gid).to.equal(groupId({ chainId: bundle.chainId, registry: bundle.registry, creator: bundle.master, label: "ward-3" }));
      expect(bundle.oid).to.equal(toId("ward-3/ecg-1"));
      expect(bundle.secret).to.equal("K7QW2MZPHX4R93TDL5VA");
    });

    it("takes a bundle without a secret (a device enrolled with --no-secret) and an http URL with a path", () => {
      const bundle = parseProvisioningBundle({ ...without("secret"), gatewayUrl: "http://10.0.3.7:8080/ward-3/" });
      expect(bundle).not.to.have.property("secret");
      expect(bundle.gatewayUrl).to.equal("http://10.0.3.7:8080/ward-3/");
    });
  });

  describe("parseProvisioningBundle: what is not a bundle", () => {
    it("refuses text that is not JSON, and JSON that is not an object, with ProvisioningMalformed", () => {
      for (const input of ["{", "", "ward-3", "[]", "null", "42", '"text"', null, [example], 7]) {
        expectCode(() => parseProvisioningBundle(input), ProvisioningError, "ProvisioningMalformed");
      }
    });

    it("refuses another format or another version with ProvisioningUnsupported", () => {
      for (const format of [undefined, "iomt-auth/provisioning/v1", "IOMT-AUTH/PROVISIONING"]) {
        expect(expectCode(() => parseProvisioningBundle({ ...example, format }), ProvisioningError, "ProvisioningUnsupported").field).to.equal("format");
      }
      for (const version of [undefined, 0, 2, "1", 1.5]) {
        const error = expectCode(() => parseProvisioningBundle({ ...example, version }), ProvisioningError, "ProvisioningUnsupported");
        expect(error.field).to.equal("version");
      }
    });
  });

  describe("parseProvisioningBundle: ProvisioningInvalidField names the field", () => {
    it("refuses a missing required field", () => {
      for (const field of ["gatewayUrl", "chainId", "registry", "gid", "master", "oid", "device"] as const) expectInvalidField(without(field), field);
    });

    it("refuses a field version 1 does not have, rather than ignoring it", () => {
      expectInvalidField({ ...example, rpcUrl: "http://127.0.0.1:8545" }, "rpcUrl");
    });

    it("refuses a gateway URL that is not http(s), not a URL, or carries credentials, a query or a fragment", () => {
      for (const gatewayUrl of ["ward-3.example:8443", "ftp://ward-3.example/", "ws://ward-3.example/", "https://operator:pw@ward-3.example/", "https://ward-3.example/?x=1", "https://ward-3.example/#a", 8080]) {
        expectInvalidField({ ...example, gatewayUrl }, "gatewayUrl");
      }
    });

    it("refuses a chain id that is not a positive safe integer", () => {
      for (const chainId of [0, -1, 1.5, "2026", 2 ** 53, null]) expectInvalidField({ ...example, chainId }, "chainId");
    });

    it("refuses addresses that are malformed, mis-checksummed or zero", () => {
      // One letter's case flipped: the EIP-55 checksum no longer matches.
      const badChecksum = device.address.replace(/(?<=^0x.*)[a-fA-F]/, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
      for (const field of ["registry", "master", "device"] as const) {
        for (const value of ["0x1234", `0x${"00".repeat(20)}`, badChecksum, 42]) expectInvalidField({ ...example, [field]: value }, field);
      }
    });

    it("refuses ids that are not 32 bytes of hex, or zero", () => {
      for (const field of ["gid", "oid"] as const) {
        for (const value of ["ward-3", `0x${"ab".repeat(31)}`, `0x${"00".repeat(32)}`, `${"ab".repeat(32)}`]) expectInvalidField({ ...example, [field]: value }, field);
      }
    });

    it("refuses a secret the gateway could not have issued (under 16 or over 256 characters, padded, not a string), without echoing it", () => {
      for (const secret of ["short", " K7QW2MZPHX4R93TDL5VA", "x".repeat(257), 1234567890123456789]) {
        const error = expectCode(() => parseProvisioningBundle({ ...example, secret }), ProvisioningError, "ProvisioningInvalidField");
        expect(error.field).to.equal("secret");
        if (typeof secret === "string") expect(error.message).not.to.contain(secret.trim());
      }
    });
  });

  describe("createGatewayClient({ provisioning, account })", () => {
    it("refuses a bundle made for another device with ProvisioningWrongDevice", () => {
      const other = privateKeyToAccount(generatePrivateKey());
      const error = expectCode(() => createGatewayClient({ provisioning: example, account: other }), ProvisioningError, "ProvisioningWrongDevice");
      expect(error.field).to.equal("device");
    });

    it("refuses a bundle given together with url, master or context with ProvisioningConflict", () => {
      const mixed = [{ url: "http://127.0.0.1:1" }, { master: master.address }, { context: { chainId: 1, registry, gid: toId("x") } }];
      for (const extra of mixed) {
        expectCode(() => createGatewayClient({ provisioning: example, account: device, ...extra } as never), ProvisioningError, "ProvisioningConflict");
      }
    });

    it("refuses a malformed bundle as parseProvisioningBundle does", () => {
      expectCode(() => createGatewayClient({ provisioning: "{", account: device }), ProvisioningError, "ProvisioningMalformed");
      expectCode(() => createGatewayClient({ provisioning: { ...example, version: 2 }, account: device }), ProvisioningError, "ProvisioningUnsupported");
    });

    it("takes its URL (path kept), Master and context from the bundle", async () => {
      const port = await freePort();
      const requests: { url: string; body: string }[] = [];
      const server: Server = createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
          requests.push({ url: request.url ?? "", body });
          response.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "HandshakesBusy", message: "busy" } }));
        });
      });
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      try {
        const gateway = createGatewayClient({ provisioning: JSON.stringify({ ...example, gatewayUrl: `http://127.0.0.1:${port}/ward-3/` }), account: device });
        expect(gateway.context).to.deep.equal({ chainId: 2026, registry: getAddress(registry), gid: example.gid });
        expect(gateway.domain).to.deep.include({ chainId: 2026, verifyingContract: getAddress(registry) });
        await rejection(gateway.keySession());
        expect(requests[0].url, "the bundle's URL, its path kept").to.equal("/ward-3/v2/session/hello");
        const { clientHello } = JSON.parse(requests[0].body) as { clientHello: { device: string; context: unknown } };
        expect(getAddress(clientHello.device)).to.equal(device.address);
        expect(clientHello.context).to.deep.equal({ chainId: 2026, registry: getAddress(registry), gid: example.gid });
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
