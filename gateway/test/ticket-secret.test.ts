// getTicket with an enrolment secret, end to end through the SDK's client (the review's attack:
// 421 guesses found a 4-digit PIN in 32 s while each guess stalled every request): wrong secrets
// are counted and backed off (EnrolmentLocked with retryAfter), the count survives a restart of
// the gateway, the right secret gets the token once and never again (EnrolmentSecretUsed), and
// guesses never stall the gateway's event loop (the KDF runs on the thread pool).
import { expect } from "chai";
import { getAddress } from "viem";
import { GatewayError, type GatewayClient } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { expectError, expectGatewayError } from "./support/expect.js";
import { createHarness, type Harness } from "./support/harness.js";

const SECRET = "bedside-12 K7QW2MZPHX4R";


describe("gateway getTicket with an enrolment secret", () => {
  let harness: Harness;
  let gateway: RunningGateway;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("counts wrong secrets and backs off, also across a restart, then issues the token once for the right secret and refuses it ever after", async () => {
    const dave = harness.device("dave");
    await gateway.enrol({ oid: dave.oid, address: dave.account.address, secret: SECRET });
    const client: GatewayClient = dave.client(gateway.url);
    await client.keySession();

    const retryAfters: unknown[] = [];
    for (let guess = 1; guess <= 6; guess++) {
      const wrong = await expectGatewayError(client.getTicket({ secret: `wrong guess number ${guess}` }), 401, "EnrolmentSecretWrong");
      expect(wrong.details).to.deep.include({ attemptsLeft: 10 - guess });
      retryAfters.push(wrong.details?.retryAfter);
      if (guess >= 3 && guess < 6) {
        // Too early, even with the right secret: refused without a KDF run, not counted.
        const early = await expectGatewayError(client.getTicket({ secret: SECRET }), 429, "EnrolmentLocked");
        await new Promise((resolve) => setTimeout(resolve, (early.details?.retryAfter as number) * 1000 + 50));
      }
    }
    expect(retryAfters).to.deep.equal([0, 0, 1, 2, 4, 8]);

    // A restart does not give attempts back: the count and the lock-out live in the database.
    const databasePath = gateway.store.path;
    await gateway.close();
    gateway = await harness.start({ databasePath });
    const restarted = dave.client(gateway.url);
    await restarted.keySession();
    const locked = await expectGatewayError(restarted.getTicket({ secret: SECRET }), 429, "EnrolmentLocked");
    expect(locked.details?.retryAfter).to.be.within(1, 8);
    expect(gateway.store.enrolmentByAddress(dave.account.address)?.secret_failures).to.equal(6);

    await new Promise((resolve) => setTimeout(resolve, (locked.details?.retryAfter as number) * 1000 + 50));
    const token = await restarted.getTicket({ secret: SECRET });
    expect(getAddress(token.device)).to.equal(dave.account.address);
    // Single use: the secret was cleared with the ticket's commit.
    expect(gateway.store.enrolmentByAddress(dave.account.address)).to.deep.include({ secret_hash: null, secret_failures: 0 });
    for (const secret of [SECRET, undefined]) {
      await expectGatewayError(restarted.getTicket(secret === undefined ? {} : { secret }), 409, "EnrolmentSecretUsed");
    }
  });

  it("never stalls the event loop while guesses run the KDF: other devices are served meanwhile", async () => {
    const guessers = await Promise.all(
      ["g1", "g2", "g3"].map(async (name) => {
        const device = harness.device(name);
        await gateway.enrol({ oid: device.oid, address: device.account.address, secret: SECRET });
        const client = device.client(gateway.url);
        await client.keySession();
        return client;
      }),
    );
    // Counted in event-loop turns, not milliseconds, so a loaded machine cannot fail it: KDFs on the
    // thread pool leave the loop free to turn thousands of times while they run, a synchronous scrypt
    // would leave it only the turns between requests.
    let turns = 0;
    let guessing = true;
    const turn = () => {
      turns += 1;
      if (guessing) setImmediate(turn);
    };
    setImmediate(turn);
    const [live, ...guesses] = await Promise.all([
      fetch(`${gateway.url}/health/live`).then((response) => response.status),
      ...guessers.map((client) => client.getTicket({ secret: "a guess, and a wrong one" }).catch((error: unknown) => error)),
    ]);
    guessing = false;
    for (const guess of guesses) expectError(guess, GatewayError, "EnrolmentSecretWrong");
    expect(live).to.equal(200);
    expect(turns, `the event loop turned ${turns} times while three KDFs ran`).to.be.greaterThan(100);
  });
});
