#!/usr/bin/env node
// iomt-gateway: create the database, start the gateway, enrol devices, list devices and pending
// work, print status. Settings come from --config FILE, then IOMT_GATEWAY_* variables, then
// --flags (see --help). Secrets are read from a file or stdin, never from the command line.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { IomtError } from "@iomt-auth/sdk";
import { readConfigFile, resolveConfig, resolveGroup, settingNames, settingsFromEnvironment, type LoadedConfig, type RawSettings } from "./config.js";
import { checkSecretStrength, createPepperFile, enrolDevice, generateEnrolmentSecret, hashEnrolmentSecret, readPepperFile, renewEnrolmentSecret } from "./enrolment.js";
import { createBundleFile, provisioningBundle, requirePublicUrl } from "./provisioning.js";
import { GatewayStore, type StoreErrorCode } from "./store.js";

const usage = `usage: iomt-gateway <command> [--config FILE] [--<setting> VALUE ...]

commands
  init                        create the database (once, before the first start), and the pepper
                              file when pepperFile names one that does not exist yet
  start                       run the gateway until SIGINT/SIGTERM; refuses a missing, empty,
                              corrupt or already running database
  enrol --oid ID --address 0x… [--group GID|LABEL] [--secret-file FILE | --secret-stdin | --no-secret]
        [--bundle-file FILE]  allow a device to get its token (oid: a name, number or bytes32);
                              without a secret option a strong secret is generated and printed once;
                              prints the device's provisioning bundle (with its secret), or writes it
                              to FILE (new, 0600) and keeps the secret off stdout
  renew-secret --oid ID [--group GID|LABEL] [--secret-file FILE | --secret-stdin | --no-secret] [--bundle-file FILE]
                              give an enrolled device a new secret (after it was used or locked)
  devices                     list enrolled devices, their secret state and association status
  pending                     list work not yet on chain (messages, batches, associations)
  status                      counts of messages, batches and associations, as JSON

secrets: at least 16 characters, from a file readable by its owner only (--secret-file) or from
stdin (--secret-stdin); one trailing newline is ignored. A secret is never taken from argv.

settings (flag, or the IOMT_GATEWAY_* variable in the README, or a key in the JSON config file)
  ${settingNames.map((name) => `--${name}`).join(" ")}`;

const flagOptions = Object.fromEntries(settingNames.map((name) => [name, { type: "string" as const }]));

/** CLI exit codes: 2 for a usage or configuration error, 3 for a store the gateway refuses, 1 otherwise. */
const storeCodes: readonly StoreErrorCode[] = ["StoreExists", "StoreMissing", "StoreEmpty", "StoreCorrupt", "StoreLocked", "StoreSchemaMismatch", "StoreUnwritable"];

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...flagOptions,
      config: { type: "string" },
      help: { type: "boolean" },
      oid: { type: "string" },
      address: { type: "string" },
      group: { type: "string" },
      // Declared only to refuse it with a clear message.
      secret: { type: "string" },
      "secret-file": { type: "string" },
      "secret-stdin": { type: "boolean" },
      "no-secret": { type: "boolean" },
      "bundle-file": { type: "string" },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    console.log(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (values.secret !== undefined) {
    throw new IomtError("CliUsage", "--secret is not accepted: a secret on the command line is visible to other users (ps, /proc, shell history); use --secret-file FILE or --secret-stdin");
  }
  const raw: RawSettings = {
    ...(values.config === undefined ? {} : readConfigFile(values.config)),
    ...settingsFromEnvironment(process.env),
    ...Object.fromEntries(settingNames.map((name) => [name, (values as Record<string, unknown>)[name]]).filter(([, value]) => value !== undefined)),
  };
  const loaded = resolveConfig(raw);
  const { config } = loaded;
  const openStore = () => GatewayStore.open(config.databasePath, { durability: config.durability });

  switch (command) {
    case "init": {
      const pepper = config.pepperFile === undefined ? undefined : existsSync(config.pepperFile) ? "existing" : "created";
      // An existing pepper file must be a valid one before anything is created.
      if (pepper === "existing") readPepperFile(config.pepperFile as string);
      GatewayStore.create(config.databasePath);
      if (pepper === "created") {
        try {
          createPepperFile(config.pepperFile as string);
        } catch (error) {
          for (const suffix of ["", "-wal", "-shm"]) rmSync(`${config.databasePath}${suffix}`, { force: true });
          throw error;
        }
      }
      console.log(JSON.stringify({ initialised: { database: config.databasePath, pepperFile: config.pepperFile ?? null, pepper: pepper ?? "none (devices can only be enrolled with --no-secret)" } }));
      return 0;
    }
    case "start": {
      // Loaded here, not at the top: the other commands need neither the HTTP server nor the chain client.
      const { startGateway } = await import("./gateway.js");
      const gateway = await startGateway(loaded);
      const stop = async (signal: string) => {
        console.error(`iomt-gateway: ${signal}, closing`);
        await gateway.close();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop("SIGINT"));
      process.once("SIGTERM", () => void stop("SIGTERM"));
      return -1; // keep running
    }
    case "enrol":
    case "renew-secret": {
      if (values.oid === undefined || (command === "enrol" && values.address === undefined)) {
        throw new IomtError("CliUsage", command === "enrol" ? "enrol needs --oid and --address" : "renew-secret needs --oid");
      }
      const gid = servedGroup(loaded, values.group);
      const secret = await readSecret(values);
      const secretHash = secret.value === undefined ? undefined : await hashEnrolmentSecret(secret.value, pepperFor(loaded));
      requirePublicUrl(config); // before anything is stored
      const bundleFile = values["bundle-file"] === undefined ? undefined : createBundleFile(values["bundle-file"]);
      const store = openStore();
      try {
        const row =
          command === "enrol"
            ? enrolDevice(store, { gid, oid: values.oid, address: values.address as string, secretHash })
            : renewEnrolmentSecret(store, { gid, oid: values.oid, secretHash: secretHash ?? null });
        const key = command === "enrol" ? "enrolled" : "renewed";
        const done = { [key]: { oid: row.oid, gid: row.gid, address: row.address, secret: secret.source } };
        if (bundleFile !== undefined) {
          // The file (0600) carries the secret whatever its source; stdout then carries none.
          bundleFile.write(provisioningBundle(loaded, row, secret.value));
          console.log(JSON.stringify({ ...done, bundleFile: bundleFile.path }));
        } else {
          // A generated secret is printed once, here (alone and in the bundle): the gateway keeps only its
          // hash. A secret the operator gave is never echoed: the bundle on stdout goes without it.
          const printed = secret.source === "generated" ? secret.value : undefined;
          console.log(JSON.stringify({ ...done, ...(printed === undefined ? {} : { secret: printed }), provisioning: provisioningBundle(loaded, row, printed) }));
        }
      } catch (error) {
        bundleFile?.discard();
        throw error;
      } finally {
        store.close();
      }
      return 0;
    }
    case "devices":
    case "pending":
    case "status": {
      const store = openStore();
      try {
        console.log(JSON.stringify(report(store, command), null, 2));
      } finally {
        store.close();
      }
      return 0;
    }
    default:
      console.error(`iomt-gateway: unknown command ${command}\n${usage}`);
      return 2;
  }
}

function servedGroup({ config, account }: LoadedConfig, group: string | undefined): `0x${string}` {
  const wanted = group === undefined ? undefined : resolveGroup(group, { chainId: config.chainId, registry: config.registry, master: account.address });
  const gid = wanted === undefined ? config.groups[0] : config.groups.find((served) => served === wanted);
  if (gid === undefined) throw new IomtError("CliUsage", `--group ${group} is not one of the served groups`);
  return gid;
}

function pepperFor({ config }: LoadedConfig): Uint8Array {
  if (config.pepperFile === undefined) {
    throw new IomtError("GatewayConfigInvalid", "enrolment secrets need pepperFile in the configuration (`iomt-gateway init` creates the file); or enrol with --no-secret");
  }
  return readPepperFile(config.pepperFile);
}

type SecretSource = "generated" | "file" | "stdin" | "none";

/** The secret to set: from a file, from stdin, none, or (by default) generated. */
async function readSecret(values: { "secret-file"?: string; "secret-stdin"?: boolean; "no-secret"?: boolean }): Promise<{ value: string | undefined; source: SecretSource }> {
  const chosen = [values["secret-file"] !== undefined, values["secret-stdin"] === true, values["no-secret"] === true].filter(Boolean).length;
  if (chosen > 1) throw new IomtError("CliUsage", "give at most one of --secret-file, --secret-stdin and --no-secret");
  if (values["no-secret"] === true) return { value: undefined, source: "none" };
  let text: string;
  let source: SecretSource;
  if (values["secret-file"] !== undefined) {
    const path = values["secret-file"];
    try {
      if ((statSync(path).mode & 0o077) !== 0) throw new IomtError("CliUsage", `secret file ${path} is readable by group or others; chmod 600 it`);
      text = readFileSync(path, "utf8");
    } catch (error) {
      if (error instanceof IomtError) throw error;
      throw new IomtError("CliUsage", `cannot read secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    source = "file";
  } else if (values["secret-stdin"] === true) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
    source = "stdin";
  } else {
    return { value: generateEnrolmentSecret(), source: "generated" };
  }
  const value = text.replace(/\r?\n$/, "");
  try {
    checkSecretStrength(value);
  } catch (error) {
    throw new IomtError("EnrolmentSecretWeak", (error as Error).message);
  }
  return { value, source };
}

function report(store: GatewayStore, command: "devices" | "pending" | "status"): unknown {
  const db = store.db;
  if (command === "devices") {
    return db
      .prepare(
        `SELECT e.oid, e.gid, e.address,
                CASE WHEN e.secret_hash IS NOT NULL THEN 'set' WHEN e.secret_used_at IS NOT NULL THEN 'used' ELSE 'none' END AS secret,
                e.secret_failures AS secretFailures, e.secret_locked_until AS secretLockedUntil,
                e.enrolled_at AS enrolledAt, e.ticket_issued_at AS ticketIssuedAt,
                a.status AS association, a.tx_hash AS associationTx,
                (SELECT count(*) FROM messages m WHERE m.device = e.address) AS messages
         FROM enrolments e LEFT JOIN associations a ON a.device = e.address ORDER BY e.enrolled_at, e.oid`,
      )
      .all();
  }
  if (command === "pending") {
    return {
      messages: db.prepare("SELECT gid, route, status, count(*) AS count, min(accepted_at) AS oldestAcceptedAt FROM messages WHERE status IN ('pending', 'relaying') GROUP BY gid, route, status").all(),
      batches: db.prepare("SELECT id, gid, root, size, status, tx_hash AS txHash, error_code AS errorCode FROM batches WHERE status IN ('created', 'sent', 'failed') ORDER BY id").all(),
      associations: db.prepare("SELECT device, oid, status, tx_hash AS txHash FROM associations WHERE status IN ('queued', 'submitted') ORDER BY created_at").all(),
    };
  }
  const counts = store.counts();
  return {
    messages: counts.messages,
    batches: counts.batches,
    associations: Object.fromEntries((db.prepare("SELECT status, count(*) AS count FROM associations GROUP BY status").all() as { status: string; count: number }[]).map((row) => [row.status, row.count])),
    enrolments: db.prepare("SELECT count(*) FROM enrolments").pluck().get(),
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const code = error instanceof IomtError ? error.code : "Error";
    console.error(`iomt-gateway: ${code}: ${(error as Error).message}`);
    process.exitCode = (storeCodes as readonly string[]).includes(code) ? 3 : error instanceof IomtError ? 2 : 1;
    // Nothing may keep a refused start alive (an open handle would leave a half-started process).
    setTimeout(() => process.exit(), 1_000).unref();
  },
);
