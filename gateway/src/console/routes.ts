// The operator console on the admin listener (enabled by `adminTokenFile`): a page under /console
// (HTML, one script, one stylesheet: built from gateway/console-ui with Preact and htm at build time,
// served from the package, nothing from elsewhere) and its JSON API under /console/api, which
// answers only requests with `Authorization: Bearer <admin token>` (token.ts). The page holds no
// data, so it loads without the token; it asks for the token once and keeps it in sessionStorage.
// Since no cookie is involved, another site cannot make the browser send the token (no CSRF). A
// Content-Security-Policy allows scripts, styles and requests from the listener itself only.
//
// The actions are the CLI's own functions: enrol (enrolment.ts and the provisioning bundle,
// provisioning.ts), revoke (on chain with the Master key) and unenrol (lifecycle.ts). Every refusal
// is logged at info with its code (audit: "refusal"), every action done with what it did
// (audit: "console-action"), as the device listener's refusals are (audit.ts).
import { readFileSync } from "node:fs";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isAddress, type Hex } from "viem";
import { ContractRuleError, IomtError, toId } from "@iomt-auth/sdk";
import type { LoadedConfig } from "../config.js";
import { enrolDevice, generateEnrolmentSecret, hashEnrolmentSecret } from "../enrolment.js";
import { apiError, GatewayConfigError } from "../errors.js";
import type { Readiness } from "../health.js";
import { revokeDevice, unenrolDevice } from "../lifecycle.js";
import { provisioningBundle, requirePublicUrl } from "../provisioning.js";
import { toErrorBody } from "../server.js";
import { bearerMatches } from "./token.js";
import { backlogView, batchesView, devicesView, messagesView, sessionsView, type ConsoleSources } from "./views.js";

export const consoleRoutes = {
  page: "/console",
  script: "/console/app.js",
  style: "/console/app.css",
  overview: "/console/api/overview",
  enrol: "/console/api/enrol",
  revoke: "/console/api/revoke",
  unenrol: "/console/api/unenrol",
} as const;

/** The page's policy: its own script, style and API only; no inline script, no frames, no forms posted elsewhere. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The built page (gateway/console-ui/build.mjs), beside the compiled modules in the package's dist/. */
const assetsDir = new URL("../../dist/console-ui/", import.meta.url);

export type ConsoleParameters = ConsoleSources & {
  loaded: LoadedConfig;
  /** The admin token (read from adminTokenFile at start). */
  token: string;
  pepper: Uint8Array | undefined;
  readiness: Readiness;
};

declare module "fastify" {
  interface FastifyRequest {
    /** The code of a console refusal, for the audit line. */
    consoleRefusal: string | null;
  }
}

const oidSchema = { type: "string", minLength: 1, maxLength: 200 } as const;
const gidSchema = { type: "string", minLength: 1, maxLength: 100 } as const;
const enrolBody = {
  type: "object",
  required: ["oid", "address"],
  additionalProperties: false,
  properties: { oid: oidSchema, address: { type: "string", maxLength: 100 }, gid: gidSchema, secret: { type: "boolean" } },
} as const;
const deviceBody = { type: "object", required: ["oid"], additionalProperties: false, properties: { oid: oidSchema, gid: gidSchema } } as const;

// The answers, as Fastify serializes them (a field not declared here is not sent).
const hex = { type: "string", pattern: "^0x[0-9a-fA-F]+$" } as const;
const anyObject = { type: "object", additionalProperties: true } as const;
const list = { type: "array", items: anyObject } as const;
const errorAnswer = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } } },
} as const;
const answers = (ok: object) => ({ 200: ok, "4xx": errorAnswer, "5xx": errorAnswer });
const overviewAnswer = {
  type: "object",
  required: ["gateway", "health", "devices", "sessions", "messages", "batches", "backlog"],
  properties: { gateway: anyObject, health: anyObject, devices: list, sessions: anyObject, messages: list, batches: list, backlog: anyObject },
} as const;
const enrolAnswer = {
  type: "object",
  required: ["enrolled", "provisioning"],
  properties: {
    enrolled: { type: "object", required: ["oid", "gid", "address", "secret"], properties: { oid: hex, gid: hex, address: hex, secret: { type: "string", enum: ["generated", "none"] } } },
    provisioning: anyObject,
  },
} as const;
const revokeAnswer = {
  type: "object",
  required: ["revoked"],
  properties: {
    revoked: {
      type: "object",
      required: ["oid", "gid", "txHash", "block", "enrolment"],
      properties: { oid: hex, gid: hex, txHash: hex, block: { type: "string" }, enrolment: { type: "string", enum: ["dropped", "none"] } },
    },
  },
} as const;
const unenrolAnswer = { type: "object", required: ["unenrolled"], properties: { unenrolled: anyObject, warning: { type: "string" } } } as const;

function readAssets(): Record<"page" | "script" | "style", Buffer> {
  try {
    return {
      page: readFileSync(new URL("index.html", assetsDir)),
      script: readFileSync(new URL("app.js", assetsDir)),
      style: readFileSync(new URL("app.css", assetsDir)),
    };
  } catch (cause) {
    throw new GatewayConfigError(`the operator console's page is missing from ${assetsDir.pathname} (${(cause as NodeJS.ErrnoException).code ?? "error"}): build the gateway (npm run build in gateway/)`);
  }
}

/** Registers the console's page and API on the admin listener (an encapsulated plugin: its hooks and error handler stay its own). */
export async function consolePlugin(app: FastifyInstance, parameters: ConsoleParameters): Promise<void> {
  const assets = readAssets();
  const { loaded, store, token, pepper, readiness } = parameters;
  const { config } = loaded;
  app.decorateRequest("consoleRefusal", null);

  app.addHook("onSend", async (_request, reply) => {
    void reply.header("content-security-policy", CONSOLE_CSP);
    void reply.header("x-content-type-options", "nosniff");
    void reply.header("referrer-policy", "no-referrer");
    void reply.header("cache-control", "no-store");
  });
  app.addHook("onResponse", async (request, reply) => {
    if (request.consoleRefusal === null) return;
    request.log.info({ audit: "refusal", listener: "admin", code: request.consoleRefusal, status: reply.statusCode, method: request.method, route: request.routeOptions.url, ip: request.ip }, "console request refused");
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, code, message } = classify(error);
    if (code === "InternalError") request.log.error({ err: error }, "console request failed");
    request.consoleRefusal = code;
    void reply.status(status).send({ error: { code, message } });
  });

  // A file's bytes, sent as they are (a Buffer is never serialized); its schema names its media type for the document.
  const asset = (path: string, type: string, body: Buffer) =>
    app.get(path, { schema: { response: { 200: { description: `the console's ${type.split(";")[0]}`, content: { [type.split(";")[0]]: { schema: { type: "string" } } } } } } }, (_request: FastifyRequest, reply: FastifyReply) =>
      reply.type(type).send(body),
    );
  asset(consoleRoutes.page, "text/html; charset=utf-8", assets.page);
  asset(consoleRoutes.script, "text/javascript; charset=utf-8", assets.script);
  asset(consoleRoutes.style, "text/css; charset=utf-8", assets.style);

  await app.register(async (api) => {
    api.addHook("onRequest", async (request, reply) => {
      if (bearerMatches(request.headers.authorization, token)) return;
      request.consoleRefusal = "AdminUnauthorized";
      return reply
        .status(401)
        .header("www-authenticate", 'Bearer realm="iomt-gateway console"')
        .send({ error: { code: "AdminUnauthorized", message: "send the admin token (the contents of adminTokenFile) as Authorization: Bearer <token>" } });
    });

    api.get(consoleRoutes.overview, { schema: { response: answers(overviewAnswer) } }, async () => {
      const { body } = await readiness();
      return {
        gateway: { master: loaded.account.address, groups: config.groups.map((gid) => ({ gid, label: loaded.groupLabels[gid] ?? null })), policy: config.policy, publicUrl: config.publicUrl ?? null, secrets: pepper !== undefined },
        health: body,
        devices: devicesView(parameters),
        sessions: sessionsView(parameters),
        messages: messagesView(parameters),
        batches: batchesView(parameters),
        backlog: backlogView(parameters),
      };
    });

    api.post<{ Body: { oid: string; address: string; gid?: string; secret?: boolean } }>(consoleRoutes.enrol, { schema: { body: enrolBody, response: answers(enrolAnswer) } }, async (request) => {
      const gid = servedGroup(loaded, request.body.gid);
      const secret = request.body.secret === false ? undefined : generateEnrolmentSecret();
      if (secret !== undefined && pepper === undefined) throw new GatewayConfigError("enrolment secrets need pepperFile in the configuration; or enrol without a secret");
      requirePublicUrl(config); // before anything is stored
      if (!isAddress(request.body.address, { strict: false })) throw apiError("EnrolmentInvalid", `${request.body.address} is not an address`);
      const secretHash = secret === undefined ? undefined : await hashEnrolmentSecret(secret, pepper as Uint8Array);
      const row = await enrolDevice(store, { gid, oid: request.body.oid, address: request.body.address, secretHash });
      request.log.info({ audit: "console-action", action: "enrol", gid, oid: row.oid, device: row.address, secret: secret === undefined ? "none" : "generated", ip: request.ip }, "console: device enrolled");
      // The secret is shown once, in the bundle: the store keeps only its peppered hash.
      return { enrolled: { oid: row.oid, gid: row.gid, address: row.address, secret: secret === undefined ? "none" : "generated" }, provisioning: provisioningBundle(loaded, row, secret) };
    });

    api.post<{ Body: { oid: string; gid?: string } }>(consoleRoutes.revoke, { schema: { body: deviceBody, response: answers(revokeAnswer) } }, async (request) => {
      const gid = servedGroup(loaded, request.body.gid);
      const oid = parseOid(request.body.oid);
      const revoked = await revokeDevice(loaded, store, { gid, oid });
      request.log.info({ audit: "console-action", action: "revoke", gid, oid, txHash: revoked.txHash, block: revoked.block, ip: request.ip }, "console: device revoked on chain");
      return { revoked };
    });

    api.post<{ Body: { oid: string; gid?: string } }>(consoleRoutes.unenrol, { schema: { body: deviceBody, response: answers(unenrolAnswer) } }, async (request) => {
      const gid = request.body.gid === undefined ? undefined : servedGroup(loaded, request.body.gid);
      const result = await unenrolDevice(store, { gid, oid: request.body.oid });
      request.log.info({ audit: "console-action", action: "unenrol", gid: result.unenrolled.gid, oid: result.unenrolled.oid, device: result.unenrolled.address, ip: request.ip }, "console: device unenrolled");
      return result;
    });
  });
}

/** A served group by gid or by its configured label (default: the first served group); `GroupNotServed` otherwise. */
function servedGroup({ config, groupLabels }: LoadedConfig, group: string | undefined): Hex {
  if (group === undefined) return config.groups[0];
  const byLabel = Object.entries(groupLabels).find(([, label]) => label === group)?.[0] as Hex | undefined;
  const gid = byLabel ?? config.groups.find((served) => served === group.toLowerCase());
  if (gid === undefined) throw apiError("GroupNotServed", `${group} is not one of the served groups`);
  return gid;
}

function parseOid(oid: string): Hex {
  try {
    return toId(oid);
  } catch (error) {
    throw apiError("RequestInvalid", `oid ${oid}: ${(error as Error).message}`);
  }
}

/** The device listener's classification (server.ts), with the operator's refusals given their HTTP status. */
function classify(error: FastifyError | Error): { status: number; code: string; message: string } {
  // The registry's refusals that revokeDevice does not translate (e.g. the key is not the group's Master).
  if (error instanceof ContractRuleError) return { status: 409, code: error.code, message: `the registry refused: ${error.rule}` };
  if (error instanceof GatewayConfigError) return { status: 409, code: error.code, message: error.message };
  if (error instanceof IomtError && error.code === "EnrolmentUnknown") return { status: 404, code: error.code, message: error.message };
  if (error instanceof IomtError && error.code === "CliUsage") return { status: 400, code: "RequestInvalid", message: error.message };
  const { status, body } = toErrorBody(error);
  return { status, code: body.code, message: body.message };
}

