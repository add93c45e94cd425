// iomt-gateway's commands (commander): create the database and the console's admin token, start
// the gateway, enrol, unenrol and revoke devices, list devices and pending work, print status,
// back up and restore. The command line is parsed (and `--help`, `--version`, unknown commands and
// flags answered) before any configuration is read. Settings
// come from --config FILE, then IOMT_GATEWAY_* variables, then --flags; relative paths in flags and
// variables are the working directory's, in the config file the file's folder's. `status`,
// `devices` and `pending` only read the database: they need neither the Master key nor the chain.
// Secrets are read from a file or stdin, never from the command line.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import type { Hex } from "viem";
import { ContractRuleError, IomtError, toId } from "@iomt-auth/sdk";
import {
  defaultConfig,
  isGroupId,
  readConfigFile,
  readKeyFile,
  resolveConfig,
  resolveGroup,
  settingHelp,
  settingNames,
  settingsFromEnvironment,
  withAbsolutePaths,
  type LoadedConfig,
  type RawSettings,
  type SettingName,
} from "./config.js";
import { backupDatabase, restoreDatabase } from "./backup.js";
import { chainClients } from "./chain.js";
import { createAdminTokenFile } from "./console/token.js";
import { checkApprovedToken, checkSecretStrength, createPepperFile, enrolDevice, generateEnrolmentSecret, hashEnrolmentSecret, readPepperFile, renewEnrolmentSecret } from "./enrolment.js";
import { GatewayConfigError } from "./errors.js";
import { revokeDevice, unenrolDevice } from "./lifecycle.js";
import { rotateMasterKey } from "./rotation.js";
import { createBundleFile, provisioningBundle, requirePublicUrl } from "./provisioning.js";
import { devicesReport, pendingReport, statusReport } from "./reports.js";
import { GatewayStore, type StoreErrorCode } from "./store.js";

/** CLI exit codes: 2 for a usage or configuration error, 3 for a store the gateway refuses, 1 otherwise. */
const storeCodes: readonly StoreErrorCode[] = ["StoreExists", "StoreMissing", "StoreEmpty", "StoreCorrupt", "StoreLocked", "StoreSchemaMismatch", "StoreUnwritable"];

/** Settings without a default that `start`, `enrol`, `renew-secret` and `revoke` cannot do without. */
const requiredSettings: readonly SettingName[] = ["rpcUrl", "chainId", "registry", "groups", "keyFile"];
/** The settings of the commands that only touch the database. */
const storeSettings: readonly SettingName[] = ["databasePath"];

type Options = Record<string, unknown> & { config?: string };

/** Runs the command line `argv`; sets process.exitCode (and prints `iomt-gateway: <code>: <message>`) on failure. */
export async function runCli(argv: readonly string[], version: string): Promise<void> {
  try {
    await program(version).parseAsync([...argv], { from: "user" });
  } catch (error) {
    fail(error);
  }
}

function program(version: string): Command {
  const cli = new Command("iomt-gateway")
    .description("The iomt-auth gateway: the Master's API Edge and Blockchain Gateway on a cluster head.")
    .version(version, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "print this help (or a command's: iomt-gateway <command> --help) and exit")
    .addHelpText(
      "after",
      `
Settings come from --config FILE, then IOMT_GATEWAY_* variables, then --flags, each overriding the one
before. Secrets are read from a file or stdin, never from the command line. A failure prints
"iomt-gateway: <Code>: <message>" on stderr; exit 2: usage or configuration, 3: the database, 1: other.`,
    )
    // Errors are thrown (and printed once, by `fail`) rather than printed by commander and exited.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true);

  withSettings(cli.command("init"), [...storeSettings, "pepperFile"])
    .summary("create the database (once, before the first start), and the pepper file")
    .description("Creates the database (0600) and, when pepperFile names a file that does not exist yet, the pepper file (32 random bytes, 0600). Never overwrites either.")
    .action((options: Options) => init(options));

  withSettings(cli.command("admin-token"), ["adminTokenFile"])
    .summary("create the operator console's admin token file (0600)")
    .description("Creates the file adminTokenFile names: 32 random bytes as 64 hex digits, mode 0600, never overwriting one. The console's page asks for its contents; start refuses the file when group or others can read it. Needs neither the Master key nor the chain.")
    .action((options: Options) => adminToken(options));

  withSettings(cli.command("start"), settingNames, requiredSettings)
    .summary("run the gateway until SIGINT/SIGTERM")
    .description(
      "Runs the gateway until SIGINT/SIGTERM. Refuses, before listening, a missing, empty, corrupt or already running database, a node of another chain, a registry address without code, and a key that neither masters nor may anchor for a served group.",
    )
    .action((options: Options) => start(options));

  for (const name of ["enrol", "renew-secret"] as const) {
    const command = withSettings(cli.command(name), settingNames, requiredSettings);
    if (name === "enrol") {
      command
        .summary("allow a device to get its token; prints a generated secret once")
        .description("Allows a device to get its token. Without a secret option a strong secret (20 base32 characters) is generated and printed once; the database keeps only its peppered hash.")
        .addOption(new Option("--oid <id>", "the device's oid: a name (bed-12/spo2), a number or a bytes32").makeOptionMandatory())
        .addOption(new Option("--address <0x…>", "the address of the device's key").makeOptionMandatory())
        .addOption(
          new Option(
            "--token-file <file>",
            "a token the group's Master approved offline (0x-hex serialized token, one line), served as the device's ticket: for a group whose Master is a contract wallet, which the gateway's key cannot sign for. Checked on chain first (needs rpcUrl and the node): it must be for this gid, oid and address and signed by the Master's key or approved by the wallet (ERC-1271), else EnrolmentInvalid and nothing is stored",
          ),
        );
    } else {
      command
        .summary("give an enrolled device a new secret (after it was used or locked)")
        .description("Gives an enrolled device a new secret (generated unless given) with fresh attempt counters.")
        .addOption(new Option("--oid <id>", "the device's oid, as enrolled").makeOptionMandatory());
    }
    command
      .addOption(new Option("--group <gid|label>", "the served group (default: the first in groups)"))
      .addOption(new Option("--secret-file <file>", "read the secret from this file (readable by its owner only; one trailing newline ignored)"))
      .addOption(new Option("--secret-stdin", "read the secret from stdin (one trailing newline ignored)"))
      .addOption(new Option("--no-secret", "the device needs no secret"))
      .addOption(
        new Option("--bundle-file <file>", "write the device's provisioning bundle, with its secret, to this new file (0600) and keep the secret off stdout (default: the bundle is printed, without a secret the operator gave)"),
      )
      // Declared only to refuse it with a clear message.
      .addOption(new Option("--secret <value>").hideHelp())
      .action((options: Options) => enrolOrRenew(name, options));
  }

  const reports = {
    devices: ["list enrolled devices: oid and its name, group, secret state, association, messages", "Enrolled devices, oldest first: oid (and the name it was enrolled under), group, secret state, attempts, times (ISO 8601), association and message count, as JSON."],
    pending: ["list work not yet on chain (messages, batches, associations)", "Work not yet on chain: waiting messages by group, route and status; open or failed batches; associations not yet mined; as JSON."],
    status: ["counts of messages, batches, associations and enrolments, as JSON", "Counts of messages, batches, associations and enrolments, and the database's schema version and times, as JSON."],
  } as const;
  for (const [name, [summary, description]] of Object.entries(reports) as [keyof typeof reports, readonly [string, string]][]) {
    const command = withSettings(cli.command(name), storeSettings)
      .summary(summary)
      .description(`${description} Opens the database read-only: needs neither the Master key nor the chain, and runs next to a running gateway.`);
    if (name !== "status") command.addOption(new Option("--group <gid|label>", "only this group (default: all)"));
    command.action((options: Options) => report(name, options));
  }
  withSettings(cli.command("revoke"), settingNames, requiredSettings)
    .summary("revoke a device on chain with the Master key, for good, and drop its enrolment")
    .description(
      "Revokes a member of a served group on chain (the registry's revoke, sent with the Master key), waits for the receipt and drops the device's enrolment here; every gateway then refuses it (DeviceRevoked). Refuses an oid that is not a member of the group (DeviceNotMember: use unenrol for a device not associated yet) and one already revoked (DeviceRevoked). Needs the Master key and the chain; runs next to a running gateway.",
    )
    .addOption(new Option("--oid <id>", "the member's oid: a name (bed-12/spo2), a number or a bytes32").makeOptionMandatory())
    .addOption(new Option("--group <gid|label>", "the served group (default: the first in groups)"))
    .action((options: Options) => revokeCommand(options));

  withSettings(cli.command("rotate-key"), settingNames, requiredSettings)
    .summary("hand the group the key masters over to a new key on chain (with the gateway stopped)")
    .description(
      "Hands the served group the key masters over to the key in --new-key-file: proposeMaster with the current key, acceptMaster with the new one, each waited for. Refused, before anything is sent, while a gateway runs on the database (StoreLocked), when the new key may not master the group (MasterIneligible) or cannot pay for its acceptance (MasterKeyUnfunded), when a served group the key only anchors for does not let the new key anchor (KeyNotAuthorized), and while associations the gateway acknowledged are not mined (RotationBlocked). A rerun finishes what a failed run left. Then point keyFile at the new key and start the gateway. Needs both keys and the chain.",
    )
    .addOption(new Option("--new-key-file <file>", "the new Master's private key file (one 0x-hex line, chmod 600)").makeOptionMandatory())
    .action((options: Options) => rotateKey(options));

  withSettings(cli.command("unenrol"), storeSettings)
    .summary("remove a device's enrolment here (no ticket from now on); does not revoke on chain")
    .description(
      "Removes a device's enrolment from this gateway's list: it gets no ticket here from now on. It does not revoke on chain: a device that got its ticket can still associate with it, and an associated device stays admitted as a member (the answer warns when the store shows either); `revoke` cuts such a device off. Refuses an oid not enrolled (EnrolmentUnknown). Needs neither the Master key nor the chain; runs next to a running gateway.",
    )
    .addOption(new Option("--oid <id>", "the device's oid, as enrolled").makeOptionMandatory())
    .addOption(new Option("--group <gid|label>", "its group, by gid or by a label the store recorded (default: the one group the oid is enrolled in)"))
    .action((options: Options) => unenrol(options));

  withSettings(cli.command("backup"), storeSettings)
    .summary("copy the database, also while the gateway runs (SQLite's online backup)")
    .description(
      "Copies the database through SQLite's online backup API, the pages still in the WAL included, also while a gateway runs on it, to a new file (0600) that passed SQLite's integrity check. Never overwrites a file. Needs neither the Master key nor the chain.",
    )
    .addOption(new Option("--to <file>", "the new backup file").makeOptionMandatory())
    .action((options: Options) => backup(options));

  withSettings(cli.command("restore"), storeSettings)
    .summary("restore a backup as the database (with the gateway stopped)")
    .description(
      "Restores a backup (checked with SQLite's integrity_check first) as the database. An existing database is refused unless --replace, which moves it aside (with its -wal and -shm) to <database>.replaced-<time>; refused while a gateway runs on it.",
    )
    .addOption(new Option("--from <file>", "the backup file").makeOptionMandatory())
    .addOption(new Option("--replace", "move an existing database aside instead of refusing"))
    .action((options: Options) => restore(options));
  return cli;
}

async function revokeCommand(options: Options): Promise<void> {
  const loaded = resolveConfig(rawSettings(options, settingNames));
  const gid = servedGroup(loaded, options.group as string | undefined);
  let oid: Hex;
  try {
    oid = toId(options.oid as string);
  } catch (error) {
    throw new IomtError("CliUsage", `--oid ${String(options.oid)}: ${(error as Error).message}`);
  }
  // Opened first: a database the command cannot write is refused before anything is sent on chain.
  const store = GatewayStore.open(loaded.config.databasePath, { durability: loaded.config.durability });
  try {
    console.log(JSON.stringify({ revoked: await revokeDevice(loaded, store, { gid, oid }) }));
  } finally {
    store.close();
  }
}

async function rotateKey(options: Options): Promise<void> {
  const loaded = resolveConfig(rawSettings(options, settingNames));
  const newKey = readKeyFile(resolve(options.newKeyFile as string));
  // Locked: a gateway running on this database would go on using the key that is handed over.
  const store = GatewayStore.open(loaded.config.databasePath, { durability: loaded.config.durability, lock: true });
  try {
    const result = await rotateMasterKey(loaded, store, newKey);
    const labelled = Object.keys(loaded.groupLabels).length > 0;
    // A label names a group its Master key created (gid = groupId(key, label)): the new key did not create it.
    const groups = labelled ? `, and name the groups by gid (groups: ${JSON.stringify(loaded.config.groups)}): a label derives the gid from the key that created the group` : "";
    const next = `set keyFile to ${resolve(options.newKeyFile as string)}${groups}, then start the gateway; devices provisioned with the previous Master's address need the new one (gateway README: Rotating the Master key)`;
    console.log(JSON.stringify({ ...result, next }));
  } finally {
    store.close();
  }
}

async function unenrol(options: Options): Promise<void> {
  const { databasePath } = rawSettings(options, storeSettings);
  const store = GatewayStore.open(databasePath as string);
  try {
    const gid = options.group === undefined ? undefined : labelledGroup(store, options.group as string);
    console.log(JSON.stringify(await unenrolDevice(store, { gid, oid: options.oid as string })));
  } finally {
    store.close();
  }
}

async function backup(options: Options): Promise<void> {
  const { databasePath } = rawSettings(options, storeSettings);
  const to = resolve(options.to as string);
  const copy = await backupDatabase(databasePath as string, to);
  console.log(JSON.stringify({ backup: { database: databasePath, to, ...copy } }));
}

async function restore(options: Options): Promise<void> {
  const { databasePath } = rawSettings(options, storeSettings);
  const from = resolve(options.from as string);
  const restored = await restoreDatabase(from, databasePath as string, { replace: options.replace === true });
  console.log(JSON.stringify({ restored: { database: databasePath, from, ...restored } }));
}

/** Adds `--config` and one `--<setting> <value>` flag per setting, with its variable and default in the help. */
function withSettings(command: Command, names: readonly SettingName[], required: readonly SettingName[] = []): Command {
  command.option("--config <file>", "a JSON config file (relative paths in it are the file's folder's)");
  for (const name of names) {
    const { variable, help, default: fallback } = settingHelp(name);
    const state = fallback !== undefined ? `default: ${fallback}` : required.includes(name) ? "required" : "default: none";
    command.option(`--${name} <value>`, `${help} (${variable}; ${state})`);
  }
  return command;
}

/** The merged settings: config file, then environment, then flags; relative paths made absolute. */
function rawSettings(options: Options, names: readonly SettingName[]): RawSettings {
  const cwd = process.cwd();
  const flags = Object.fromEntries(names.flatMap((name) => (options[name] === undefined ? [] : [[name, options[name]]])));
  const merged: RawSettings = {
    ...(options.config === undefined ? {} : readConfigFile(resolve(cwd, options.config))),
    ...withAbsolutePaths(settingsFromEnvironment(process.env), cwd),
    ...withAbsolutePaths(flags, cwd),
  };
  return { ...merged, databasePath: resolve(cwd, typeof merged.databasePath === "string" && merged.databasePath !== "" ? merged.databasePath : defaultConfig.databasePath) };
}

function init(options: Options): void {
  const raw = rawSettings(options, [...storeSettings, "pepperFile"]);
  const databasePath = raw.databasePath as string;
  const pepperFile = raw.pepperFile === undefined ? undefined : String(raw.pepperFile);
  if (pepperFile !== undefined && pepperFile === databasePath) throw new GatewayConfigError("pepperFile must not be the database");
  const pepper = pepperFile === undefined ? undefined : existsSync(pepperFile) ? "existing" : "created";
  // An existing pepper file must be a valid one before anything is created.
  if (pepper === "existing") readPepperFile(pepperFile as string);
  GatewayStore.create(databasePath);
  if (pepper === "created") {
    try {
      createPepperFile(pepperFile as string);
    } catch (error) {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${databasePath}${suffix}`, { force: true });
      throw error;
    }
  }
  console.log(JSON.stringify({ initialised: { database: databasePath, pepperFile: pepperFile ?? null, pepper: pepper ?? "none (devices can only be enrolled with --no-secret)" } }));
}

function adminToken(options: Options): void {
  const { adminTokenFile } = rawSettings(options, ["adminTokenFile"]);
  if (adminTokenFile === undefined) throw new IomtError("CliUsage", "name the file to create: --adminTokenFile FILE (or adminTokenFile in --config, or IOMT_GATEWAY_ADMIN_TOKEN_FILE)");
  createAdminTokenFile(String(adminTokenFile));
  // The token stays in the file: printed, it would land in terminal scrollback and logs.
  console.log(JSON.stringify({ adminTokenFile: String(adminTokenFile) }));
}

async function start(options: Options): Promise<void> {
  const loaded = resolveConfig(rawSettings(options, settingNames));
  // Loaded here, not at the top: the other commands need neither the HTTP server nor the chain client.
  const { startGateway } = await import("./gateway.js");
  const gateway = await startGateway(loaded);
  const stop = async (signal: string) => {
    gateway.log.info({ signal }, "closing");
    await gateway.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

async function enrolOrRenew(command: "enrol" | "renew-secret", options: Options): Promise<void> {
  if (typeof options.secret === "string") {
    throw new IomtError("CliUsage", "--secret is not accepted: a secret on the command line is visible to other users (ps, /proc, shell history); use --secret-file FILE or --secret-stdin");
  }
  const loaded = resolveConfig(rawSettings(options, settingNames));
  const gid = servedGroup(loaded, options.group as string | undefined);
  const secret = await readSecret(options);
  const secretHash = secret.value === undefined ? undefined : await hashEnrolmentSecret(secret.value, pepperFor(loaded));
  requirePublicUrl(loaded.config); // before anything is stored
  const token = options.tokenFile === undefined ? undefined : await approvedToken(loaded, gid, options);
  const bundleFile = options.bundleFile === undefined ? undefined : createBundleFile(options.bundleFile as string);
  const store = GatewayStore.open(loaded.config.databasePath, { durability: loaded.config.durability });
  try {
    recordGroupLabels(store, loaded);
    const oid = options.oid as string;
    const row =
      command === "enrol"
        ? await enrolDevice(store, { gid, oid, address: options.address as string, secretHash, token })
        : await renewEnrolmentSecret(store, { gid, oid, secretHash: secretHash ?? null });
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
}

/** Reads `--token-file` (one 0x-hex line) and checks the token on chain before anything is stored. */
async function approvedToken(loaded: LoadedConfig, gid: Hex, options: Options): Promise<Hex> {
  const path = options.tokenFile as string;
  let serialized: string;
  try {
    serialized = readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (cause) {
    throw new IomtError("CliUsage", `cannot read the token file ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  const { publicClient } = chainClients(loaded);
  return checkApprovedToken(publicClient, { registry: loaded.config.registry, gid, oid: options.oid as string, address: options.address as string, serialized });
}

/** Keeps the labels of the groups configured by label, for the read-only commands' `--group`. */
function recordGroupLabels(store: GatewayStore, { groupLabels }: LoadedConfig): void {
  for (const [gid, label] of Object.entries(groupLabels)) store.setGroupLabel(gid as Hex, label);
}

function report(command: "devices" | "pending" | "status", options: Options): void {
  const raw = rawSettings(options, storeSettings);
  const store = GatewayStore.open(raw.databasePath as string, { readonly: true });
  try {
    const gid = options.group === undefined ? undefined : labelledGroup(store, options.group as string);
    const result = command === "devices" ? devicesReport(store, gid) : command === "pending" ? pendingReport(store, gid) : statusReport(store);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    store.close();
  }
}

/** A `--group` of a read-only command: a gid, or a label the store recorded (no key needed to derive it). */
function labelledGroup(store: GatewayStore, group: string): Hex {
  if (isGroupId(group)) return toId(group);
  const gids = store.groupsLabelled(group);
  if (gids.length === 1) return gids[0];
  if (gids.length === 0) {
    throw new IomtError("CliUsage", `--group ${group}: no group has this label in ${store.path} (a label is recorded when the gateway starts or enrols with it in groups); name the group by gid`);
  }
  throw new IomtError("CliUsage", `--group ${group} names ${gids.length} groups (${gids.join(", ")}): name one by gid`);
}

function servedGroup({ config, account }: LoadedConfig, group: string | undefined): Hex {
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

/** The secret to set: from a file, from stdin, none (`--no-secret`), or (by default) generated. */
async function readSecret(options: Options): Promise<{ value: string | undefined; source: SecretSource }> {
  const file = options.secretFile as string | undefined;
  const stdin = options.secretStdin === true;
  const none = options.secret === false;
  if ([file !== undefined, stdin, none].filter(Boolean).length > 1) throw new IomtError("CliUsage", "give at most one of --secret-file, --secret-stdin and --no-secret");
  if (none) return { value: undefined, source: "none" };
  let text: string;
  let source: SecretSource;
  if (file !== undefined) {
    const path = resolve(file);
    try {
      if ((statSync(path).mode & 0o077) !== 0) throw new IomtError("CliUsage", `secret file ${path} is readable by group or others; chmod 600 it`);
      text = readFileSync(path, "utf8");
    } catch (error) {
      if (error instanceof IomtError) throw error;
      throw new IomtError("CliUsage", `cannot read secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    source = "file";
  } else if (stdin) {
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

/** Prints a failure as `iomt-gateway: <code>: <message>` and sets the exit code. */
function fail(error: unknown): void {
  if (error instanceof CommanderError) {
    // --help, help and --version: printed by commander, a success.
    if (error.exitCode === 0) return;
    const message =
      error.code === "commander.help"
        ? "a command is required (listed above)"
        : `${error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ")} (iomt-gateway --help lists the commands, iomt-gateway <command> --help their options)`;
    return fail(new IomtError("CliUsage", message));
  }
  const code = error instanceof IomtError ? error.code : "Error";
  // A registry refusal's message starts with its code: printed once, with the rule in words.
  const message = error instanceof ContractRuleError ? `the registry refused: ${error.rule}${error.args.length === 0 ? "" : ` (${error.args.map(String).join(", ")})`}` : (error as Error).message;
  console.error(`iomt-gateway: ${code}: ${message}`);
  process.exitCode = (storeCodes as readonly string[]).includes(code) ? 3 : error instanceof IomtError ? 2 : 1;
  // Nothing may keep a refused start alive (an open handle would leave a half-started process).
  setTimeout(() => process.exit(), 1_000).unref();
}
