#!/usr/bin/env node
// iomt-gateway: start the gateway, enrol devices, list devices and pending work, print status.
// Settings come from --config FILE, then IOMT_GATEWAY_* variables, then --flags (see --help).
import { parseArgs } from "node:util";
import { IomtError } from "@iomt-auth/sdk";
import { readConfigFile, resolveConfig, resolveGroup, settingNames, settingsFromEnvironment, type RawSettings } from "./config.js";
import { enrolDevice } from "./enrolment.js";
import { startGateway } from "./gateway.js";
import { GatewayStore } from "./store.js";

const usage = `usage: iomt-gateway <command> [--config FILE] [--<setting> VALUE ...]

commands
  start                       run the gateway until SIGINT/SIGTERM
  enrol --oid ID --address 0x… [--secret S] [--group GID|LABEL]
                              allow a device to get its token (oid: a name, number or bytes32)
  devices                     list enrolled devices and their association status
  pending                     list work not yet on chain (messages, batches, associations)
  status                      counts of messages, batches and associations, as JSON

settings (flag, or the IOMT_GATEWAY_* variable in the README, or a key in the JSON config file)
  ${settingNames.map((name) => `--${name}`).join(" ")}`;

const flagOptions = Object.fromEntries(settingNames.map((name) => [name, { type: "string" as const }]));

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...flagOptions, config: { type: "string" }, help: { type: "boolean" }, oid: { type: "string" }, address: { type: "string" }, secret: { type: "string" }, group: { type: "string" } },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    console.log(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  const raw: RawSettings = {
    ...(values.config === undefined ? {} : readConfigFile(values.config)),
    ...settingsFromEnvironment(process.env),
    ...Object.fromEntries(settingNames.map((name) => [name, (values as Record<string, unknown>)[name]]).filter(([, value]) => value !== undefined)),
  };
  const loaded = resolveConfig(raw);
  const { config } = loaded;

  switch (command) {
    case "start": {
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
    case "enrol": {
      if (values.oid === undefined || values.address === undefined) throw new IomtError("CliUsage", "enrol needs --oid and --address");
      const wanted = values.group === undefined ? undefined : resolveGroup(values.group, { chainId: config.chainId, registry: config.registry, master: loaded.account.address });
      const gid = wanted === undefined ? config.groups[0] : config.groups.find((served) => served === wanted);
      if (gid === undefined) throw new IomtError("CliUsage", `--group ${values.group} is not one of the served groups`);
      const store = new GatewayStore(config.databasePath, { durability: config.durability });
      try {
        const row = enrolDevice(store, { gid, oid: values.oid, address: values.address, secret: values.secret });
        console.log(JSON.stringify({ enrolled: { oid: row.oid, gid: row.gid, address: row.address, secret: row.secret_hash !== null } }));
      } finally {
        store.close();
      }
      return 0;
    }
    case "devices":
    case "pending":
    case "status": {
      const store = new GatewayStore(config.databasePath, { durability: config.durability });
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

function report(store: GatewayStore, command: "devices" | "pending" | "status"): unknown {
  const db = store.db;
  if (command === "devices") {
    return db
      .prepare(
        `SELECT e.oid, e.gid, e.address, e.secret_hash IS NOT NULL AS secret, e.enrolled_at AS enrolledAt, e.ticket_issued_at AS ticketIssuedAt,
                a.status AS association, a.tx_hash AS associationTx,
                (SELECT count(*) FROM messages m WHERE m.device = e.address) AS messages
         FROM enrolments e LEFT JOIN associations a ON a.device = e.address ORDER BY e.enrolled_at, e.oid`,
      )
      .all()
      .map((row) => ({ ...(row as Record<string, unknown>), secret: (row as { secret: number }).secret === 1 }));
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
    process.exitCode = error instanceof IomtError ? 2 : 1;
  },
);
