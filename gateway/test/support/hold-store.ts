// Run as its own process (node --import tsx): opens a gateway database with the gateway's lock,
// prints `held <pid>` and keeps it until killed. The store tests kill it with SIGKILL.
import { GatewayStore } from "../../src/store.js";

const store = GatewayStore.open(process.argv[2], { lock: true });
console.log(`held ${process.pid}`);
setInterval(() => store.getMeta("schema_version"), 60_000);
