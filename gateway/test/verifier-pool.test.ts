// The pool of verifier threads (verifier-pool.ts) on real worker threads: the same verdicts as the
// main thread, in the request's order, for good and bad messages (a wrong signer, a high-s or
// malformed signature, a payload that does not match its commitment); the requests of one
// event-loop turn go to a worker in one hand-off, each getting its own verdicts; a worker killed
// with a batch fails every request in it with VerifierUnavailable and is replaced; close leaves no thread running (a
// process whose only work was a pool ends by itself). End to end, a gateway whose verifier thread
// dies refuses the data request with a sealed 503 VerifierUnavailable, stores nothing, and takes the
// same message once the replacement answers.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { bytesToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createDataMessage, gatewayRoutes, randomSalt, registryDomain, signDataMessage, toWireDataMessage, type WireSignedDataMessage } from "@iomt-auth/sdk";
import { ApiError } from "../src/errors.js";
import { createInThreadVerifier } from "../src/verifier.js";
import { VerifierPool } from "../src/verifier-pool.js";
import { toHighS } from "../../sdk/test/support/signatures.js";
import { expectRejection } from "../../sdk/test/support/expect.js";
import { expectErrorAnswer, postSealed } from "./support/expect.js";
import { eventually, startWithTwoDevices, type TwoDevices } from "./support/harness.js";

const domain = registryDomain({ chainId: 31337, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
const options = { domain, nativeSecp256k1: true, keccak: "wasm" } as const;
const gid: Hex = `0x${"11".repeat(32)}`;
const oid: Hex = `0x${"22".repeat(32)}`;
const device = privateKeyToAccount(`0x${"42".repeat(32)}`);
const stranger = privateKeyToAccount(`0x${"43".repeat(32)}`);

async function signed(nonce: number, signer = device): Promise<WireSignedDataMessage> {
  const salt = randomSalt();
  const payload = `reading ${nonce}`;
  const message = createDataMessage({ gid, oid, nonce: BigInt(nonce), payload, salt, validFor: 600n });
  const { signature } = await signDataMessage(signer, { domain, message });
  return { message: toWireDataMessage(message), signature, payload: bytesToHex(new TextEncoder().encode(payload)), salt };
}

describe("gateway verifier pool", () => {
  describe("verdicts", () => {
    let pool: VerifierPool;
    before(async () => {
      pool = await VerifierPool.start({ ...options, threads: 2 });
    });
    after(() => pool.close());

    it("gives the main thread's verdicts, in order, for a request split across the workers, good and bad messages mixed", async () => {
      const messages = await Promise.all(Array.from({ length: 70 }, (_, i) => signed(i + 1, i % 7 === 3 ? stranger : device)));
      messages[5] = { ...messages[5], signature: toHighS(messages[5].signature) };
      messages[9] = { ...messages[9], signature: `0x${"ab".repeat(64)}1d` };
      messages[12] = { ...messages[12], payload: "0x00" };
      messages[20] = { ...messages[20], payload: undefined, salt: undefined };
      const here = await (await createInThreadVerifier(options)).verify(messages);
      const there = await pool.verify(messages);
      expect(there).to.deep.equal(here);
      expect(there[0]).to.deep.include({ signer: device.address.toLowerCase(), payloadMatches: true });
      expect(there[3]).to.deep.include({ signer: stranger.address.toLowerCase() });
      expect(there[5]).to.have.nested.property("invalid.code", "SignatureHighS");
      expect(there[9]).to.have.nested.property("invalid.code", "SignatureInvalidV");
      expect(there[12]).to.deep.include({ payloadMatches: false });
      expect(there[20]).to.deep.include({ payloadMatches: true, signer: device.address.toLowerCase() });
    });

    it("reports its threads, all alive, on libsecp256k1 and the WebAssembly keccak", () => {
      expect(pool.status()).to.deep.equal({ threads: 2, alive: 2, crashes: 0, nativeSecp256k1: true, keccak: "wasm" });
    });
  });

  describe("the requests of one event-loop turn", () => {
    it("go to a worker together, in one hand-off, and each gets its own verdicts in order", async () => {
      const pool = await VerifierPool.start({ ...options, threads: 1 });
      try {
        const handOffs: number[] = [];
        pool.on("dispatch", (_, count: number) => handOffs.push(count));
        const requests = [await Promise.all([1, 2, 3].map((n) => signed(n))), [await signed(4, stranger)], await Promise.all([5, 6].map((n) => signed(n)))];
        const answers = await Promise.all(requests.map((messages) => pool.verify(messages)));
        expect(handOffs).to.deep.equal([6]);
        const here = await createInThreadVerifier(options);
        for (const [i, messages] of requests.entries()) expect(answers[i]).to.deep.equal(await here.verify(messages));
        expect(answers[1][0]).to.deep.include({ signer: stranger.address.toLowerCase() });
        // A later turn is another hand-off.
        await pool.verify(requests[1]);
        expect(handOffs).to.deep.equal([6, 1]);
      } finally {
        await pool.close();
      }
    });

    it("are all refused with VerifierUnavailable when the worker holding their batch dies", async () => {
      const pool = await VerifierPool.start({ ...options, threads: 1 });
      try {
        pool.once("dispatch", (worker) => void worker.terminate());
        const messages = await Promise.all([1, 2].map((n) => signed(n)));
        const outcomes = [pool.verify(messages.slice(0, 1)), pool.verify(messages.slice(1))];
        for (const outcome of outcomes) await expectRejection(outcome, ApiError, "VerifierUnavailable");
      } finally {
        await pool.close();
      }
    });
  });

  describe("a worker that dies", () => {
    it("fails the batch it held with VerifierUnavailable, is replaced, and the pool verifies again", async () => {
      const pool = await VerifierPool.start({ ...options, threads: 1 });
      try {
        const statusAtCrash: ReturnType<VerifierPool["status"]>[] = [];
        pool.once("crash", () => statusAtCrash.push(pool.status()));
        pool.once("dispatch", (worker) => void worker.terminate());
        const message = await signed(1);
        await expectRejection(pool.verify([message]), ApiError, "VerifierUnavailable");
        expect(statusAtCrash).to.deep.equal([{ threads: 1, alive: 0, crashes: 1, nativeSecp256k1: true, keccak: "wasm" }]);
        await eventually("the replacement to answer", () => (pool.status().alive === 1 ? true : undefined));
        const [verdict] = await pool.verify([message]);
        expect(verdict).to.deep.include({ signer: device.address.toLowerCase() });
        expect(pool.status().crashes).to.equal(1);
      } finally {
        await pool.close();
      }
    });
  });

  describe("close", () => {
    it("terminates every thread: a process that started a pool and closed it ends by itself", async () => {
      const script = join(import.meta.dirname, "support", "pool-child.ts");
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", import.meta.resolve("tsx/esm"), script], { timeout: 120_000 });
      expect(stdout.trim()).to.equal(device.address.toLowerCase());
    });

    it("refuses batches after close with VerifierUnavailable", async () => {
      const pool = await VerifierPool.start({ ...options, threads: 1 });
      await pool.close();
      expect(pool.status().alive).to.equal(0);
      await expectRejection(pool.verify([await signed(1)]), ApiError, "VerifierUnavailable");
    });
  });

  describe("in a running gateway", () => {
    let setup: TwoDevices;
    before(async () => {
      setup = await startWithTwoDevices({ verifierThreads: "1" });
    });
    after(() => setup?.close());

    it("answers a data request whose verifier thread died with a sealed 503 VerifierUnavailable, stores nothing, and takes the message once the replacement answers", async () => {
      const { gateway, alice, aliceClient } = setup;
      const pool = gateway.verifier as VerifierPool;
      const readiness = async () => (await (await fetch(`${gateway.adminUrl}/health/ready`)).json()) as { verifier: ReturnType<VerifierPool["status"]> };
      expect((await readiness()).verifier).to.deep.include({ threads: 1, alive: 1, crashes: 0 });
      const signedMessage = await alice.sign(1n);
      const message = { message: toWireDataMessage(signedMessage.message), signature: signedMessage.signature, payload: signedMessage.payload, salt: signedMessage.salt };
      pool.once("dispatch", (worker) => void worker.terminate());
      const refused = await postSealed(gateway.url, aliceClient, gatewayRoutes.data, { messages: [message] });
      expectErrorAnswer(refused, 503, "VerifierUnavailable");
      expect(refused.sealed).to.equal(true);
      expect(gateway.store.messageByDeviceNonce(alice.account.address, 1)).to.equal(undefined);
      const back = await eventually("readiness to show the replacement", async () => {
        const { verifier } = await readiness();
        return verifier.alive === 1 ? verifier : undefined;
      });
      expect(back).to.deep.include({ threads: 1, alive: 1, crashes: 1 });
      const [receipt] = await aliceClient.sendData({ messages: [signedMessage] });
      expect(receipt.nonce).to.equal("1");
    });

    it("leaves no verifier thread running once closed", async () => {
      const pool = setup.gateway.verifier as VerifierPool;
      await setup.gateway.close();
      expect(pool.status().alive).to.equal(0);
      await expectRejection(pool.verify([await signed(1)]), ApiError, "VerifierUnavailable");
    });
  });
});
