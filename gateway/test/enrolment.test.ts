// Enrolment secrets, as the attacks of the review tried them, against a real store file: a stolen
// database alone allows no offline guessing (the pepper lives elsewhere); wrong guesses are counted
// in the database before the KDF runs, back off exponentially, lock the secret after MAX_FAILURES
// and stay counted across a restart and under concurrent guesses; a secret is single use, also
// when two correct requests race; the KDF runs off the event loop (a guess does not stall
// anything else); weak secrets are refused and generated ones are strong; the pepper file must
// be private and well formed, and a gateway whose pepper is not the one its secrets were stored
// under refuses to start.
import { expect } from "chai";
import { createHmac, randomBytes, scryptSync } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import {
  checkSecretStrength,
  checkStoredSecrets,
  createPepperFile,
  EnrolmentSecrets,
  enrolDevice,
  FREE_ATTEMPTS,
  generateEnrolmentSecret,
  hashEnrolmentSecret,
  MAX_FAILURES,
  readPepperFile,
  renewEnrolmentSecret,
  secretBackoffMs,
  verifyEnrolmentSecret,
} from "../src/enrolment.js";
import { ApiError, GatewayConfigError } from "../src/errors.js";
import { expectCode, expectError, expectRejection } from "./support/expect.js";
import { GatewayStore } from "../src/store.js";

const GID = toId("ward-1").toLowerCase() as Hex;
const DEVICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SECRET = "K7QW-2MZP-HX4R-93TD";

/** Asserts that `work` is refused with an ApiError of `code` and HTTP `status` (the code is recorded); returns the error. */
async function refusal(work: () => Promise<unknown>, status: number, code: string): Promise<ApiError> {
  const error = await expectRejection(work(), ApiError, code);
  expect(error.status, error.message).to.equal(status);
  return error;
}

describe("gateway enrolment secrets", () => {
  let dir: string;
  let path: string;
  let store: GatewayStore;
  let pepper: Uint8Array;
  let clock: number;
  let secrets: EnrolmentSecrets;
  const oid = toId("bed-12/spo2").toLowerCase() as Hex;
  const enrolment = { gid: GID, oid };
  const row = () => store.enrolment(GID, oid)!;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "iomt-gateway-enrolment-"));
    path = join(dir, "gateway.db");
    GatewayStore.create(path);
    store = GatewayStore.open(path);
    pepper = randomBytes(32);
    clock = 1_700_000_000_000;
    secrets = new EnrolmentSecrets({ store, pepper, now: () => clock });
    await enrolDevice(store, { gid: GID, oid: "bed-12/spo2", address: DEVICE, secretHash: await hashEnrolmentSecret(SECRET, pepper) });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("a stolen database alone allows no offline guessing", () => {
    it("stores neither the secret nor an unpeppered hash: even the right guess does not match without the pepper", async () => {
      const stored = row().secret_hash as string;
      expect(stored).to.match(/^scrypt-hmac\$16384\$8\$1\$[0-9a-f]{16}\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
      expect(stored).to.not.include(SECRET);
      const [, n, r, p, , salt, hash] = stored.split("$");
      const options = { N: Number(n), r: Number(r), p: Number(p) };
      // The attacker holds the database and a dictionary that contains the right secret.
      for (const guess of ["0000", "bedside-4711", SECRET]) {
        expect(scryptSync(guess, Buffer.from(salt, "hex"), 32, options).toString("hex")).to.not.equal(hash);
        const wrongPepper = createHmac("sha256", randomBytes(32)).update(guess).digest();
        expect(scryptSync(wrongPepper, Buffer.from(salt, "hex"), 32, options).toString("hex")).to.not.equal(hash);
      }
      // With the pepper (which the gateway keeps in another file) it matches.
      expect(await verifyEnrolmentSecret(SECRET, stored, pepper)).to.equal(true);
    });

    it("refuses to start when secrets were stored under a pepper and none, or another one, is configured", () => {
      expect(expectCode(() => checkStoredSecrets(store, undefined), GatewayConfigError, "GatewayConfigInvalid").message).to.match(/stored under a pepper, but no pepperFile is configured/);
      expect(expectCode(() => checkStoredSecrets(store, randomBytes(32)), GatewayConfigError, "GatewayConfigInvalid").message).to.match(/another pepper than the configured pepperFile/);
      expect(() => checkStoredSecrets(store, pepper)).to.not.throw();
    });
  });

  describe("attempts are limited, counted in the database and backed off", () => {
    it("counts each wrong guess, then makes each next one wait twice as long, then locks the secret until the operator renews it", async () => {
      const waits: (number | null)[] = [];
      for (let attempt = 1; attempt <= MAX_FAILURES; attempt++) {
        const wrong = await refusal(() => secrets.check(enrolment, `wrong guess number ${attempt}`), 401, "EnrolmentSecretWrong");
        expect(wrong.details).to.deep.include({ attemptsLeft: MAX_FAILURES - attempt });
        expect(row().secret_failures).to.equal(attempt);
        waits.push(wrong.details?.retryAfter as number | null);
        if (attempt >= FREE_ATTEMPTS && attempt < MAX_FAILURES) {
          // Too early: refused without running the KDF or counting.
          const early = await refusal(() => secrets.check(enrolment, SECRET), 429, "EnrolmentLocked");
          expect(early.details?.retryAfter).to.equal(secretBackoffMs(attempt) / 1000);
          expect(row().secret_failures).to.equal(attempt);
          clock += secretBackoffMs(attempt);
        }
      }
      expect(waits).to.deep.equal([0, 0, 1, 2, 4, 8, 16, 32, 64, null]);
      // Locked for good: even the right secret, however long after, until a new secret is set.
      clock += 365 * 86_400_000;
      const locked = await refusal(() => secrets.check(enrolment, SECRET), 429, "EnrolmentLocked");
      expect(locked.details).to.deep.equal({ retryAfter: null, failures: MAX_FAILURES });

      await renewEnrolmentSecret(store, { gid: GID, oid: "bed-12/spo2", secretHash: await hashEnrolmentSecret("a brand new secret!", pepper) });
      expect(row()).to.deep.include({ secret_failures: 0, secret_locked_until: null, secret_used_at: null });
      (await secrets.check(enrolment, "a brand new secret!")).consume();
    });

    it("keeps the count and the lock-out across a restart (a new process reads them from the database)", async () => {
      for (let attempt = 1; attempt <= FREE_ATTEMPTS; attempt++) await refusal(() => secrets.check(enrolment, "not it, not it, not it"), 401, "EnrolmentSecretWrong");
      store.close();
      store = GatewayStore.open(path, { lock: true, check: "quick" });
      const restarted = new EnrolmentSecrets({ store, pepper, now: () => clock });
      await refusal(() => restarted.check(enrolment, SECRET), 429, "EnrolmentLocked");
      expect(row().secret_failures).to.equal(FREE_ATTEMPTS);
    });

    it("counts concurrent guesses one by one: 20 at once run the KDF for at most FREE_ATTEMPTS of them", async () => {
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => secrets.check(enrolment, `parallel guess ${i} of many`)));
      const codes = outcomes.map((outcome) => (outcome.status === "rejected" ? (outcome.reason as ApiError).code : "accepted"));
      expect(codes.filter((code) => code === "EnrolmentSecretWrong")).to.have.length(FREE_ATTEMPTS);
      expect(codes.filter((code) => code === "EnrolmentLocked")).to.have.length(20 - FREE_ATTEMPTS);
      expect(row().secret_failures).to.equal(FREE_ATTEMPTS);
    });

    it("does not count a request without a secret (EnrolmentSecretRequired)", async () => {
      await refusal(() => secrets.check(enrolment, undefined), 401, "EnrolmentSecretRequired");
      expect(row().secret_failures).to.equal(0);
    });
  });

  describe("a secret is single use", () => {
    it("is cleared when the ticket is issued; the next request gets EnrolmentSecretUsed, with or without the secret", async () => {
      const claim = await secrets.check(enrolment, SECRET);
      expect(row().secret_hash).to.not.equal(null); // not before the ticket's commit
      await store.commit(() => claim.consume());
      expect(row()).to.deep.include({ secret_hash: null, secret_used_at: clock, secret_failures: 0 });
      for (const secret of [SECRET, undefined]) {
        await refusal(() => secrets.check(enrolment, secret), 409, "EnrolmentSecretUsed");
      }
    });

    it("serves one of two correct requests that race: the other is refused in its commit", async () => {
      const [first, second] = await Promise.all([secrets.check(enrolment, SECRET), secrets.check(enrolment, SECRET)]);
      const outcomes = await Promise.allSettled([store.commit(() => first.consume()), store.commit(() => second.consume())]);
      expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(["fulfilled", "rejected"]);
      expect(expectError((outcomes[1] as PromiseRejectedResult).reason, ApiError, "EnrolmentSecretUsed").status).to.equal(409);
    });

    it("resets the count of earlier wrong guesses once used", async () => {
      await refusal(() => secrets.check(enrolment, "a wrong one, the first"), 401, "EnrolmentSecretWrong");
      (await secrets.check(enrolment, SECRET)).consume();
      expect(row()).to.deep.include({ secret_failures: 0, secret_locked_until: null });
    });

    it("needs nothing from a device enrolled without a secret, and leaves it so", async () => {
      const plain = toId("bed-13").toLowerCase() as Hex;
      await enrolDevice(store, { gid: GID, oid: "bed-13", address: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" });
      for (let i = 0; i < 2; i++) (await secrets.check({ gid: GID, oid: plain }, undefined)).consume();
      expect(store.enrolment(GID, plain)).to.deep.include({ secret_hash: null, secret_used_at: null });
    });
  });

  describe("the KDF runs off the event loop", () => {
    it("lets the event loop run while guesses are checked (a synchronous scrypt would stall it for its whole run)", async () => {
      // Counted in event-loop turns, not milliseconds, so a loaded machine cannot fail it: a KDF on the
      // thread pool leaves the loop free to turn thousands of times meanwhile, while a synchronous
      // scrypt would leave only the few turns between the check's own awaits.
      await store.commit(() => store.setSecretAttempt(GID, oid, 0, null));
      let turns = 0;
      let checking = true;
      const turn = () => {
        turns += 1;
        if (checking) setImmediate(turn);
      };
      setImmediate(turn);
      // Two guesses (below the back-off), each running the KDF.
      await Promise.allSettled([secrets.check(enrolment, "first wrong guess!!"), secrets.check(enrolment, "second wrong guess!")]);
      checking = false;
      expect(turns, `the event loop turned ${turns} times while two KDFs ran`).to.be.greaterThan(100);
    });
  });

  describe("strength", () => {
    it("refuses a secret under 16 characters, or with white space around it (the README's old 4-digit PIN among them)", async () => {
      for (const weak of ["4711", "bedside-4711", "fifteen chars!!", " sixteen chars ok", "sixteen chars ok "]) {
        expect(expectCode(() => checkSecretStrength(weak), ApiError, "EnrolmentSecretWeak").message, weak).to.match(/at least 16|white space/);
        await refusal(() => hashEnrolmentSecret(weak, pepper), 400, "EnrolmentSecretWeak");
      }
      expect(() => checkSecretStrength("sixteen chars ok")).to.not.throw();
      expect(expectCode(() => checkSecretStrength("x".repeat(257)), ApiError, "EnrolmentSecretWeak").message).to.match(/at most 256/);
    });

    it("generates 20 base32 characters (100 bits) from the CSPRNG, a new one each time", () => {
      const generated = Array.from({ length: 50 }, () => generateEnrolmentSecret());
      for (const secret of generated) expect(secret).to.match(/^[A-Z2-7]{20}$/);
      expect(new Set(generated).size).to.equal(50);
    });

    it("still checks a secret stored by schema version 2 (unpeppered scrypt), counted and single use like the others", async () => {
      const salt = randomBytes(16);
      const legacy = `scrypt$16384$${salt.toString("hex")}$${scryptSync("old-style secret", salt, 32, { N: 16_384, r: 8, p: 1 }).toString("hex")}`;
      await renewEnrolmentSecret(store, { gid: GID, oid: "bed-12/spo2", secretHash: legacy });
      await refusal(() => secrets.check(enrolment, "not the old secret"), 401, "EnrolmentSecretWrong");
      expect(row().secret_failures).to.equal(1);
      const claim = await secrets.check(enrolment, "old-style secret");
      claim.consume();
      expect(row().secret_hash).to.equal(null);
    });
  });

  describe("the pepper file", () => {
    it("is created with 32 random bytes, readable by its owner only, and never overwritten", () => {
      const file = join(dir, "pepper");
      createPepperFile(file);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(readFileSync(file, "utf8")).to.match(/^[0-9a-f]{64}\n$/);
      expect(readPepperFile(file)).to.have.length(32);
      const before = readFileSync(file, "utf8");
      expect(expectCode(() => createPepperFile(file), GatewayConfigError, "GatewayConfigInvalid").message).to.match(/EEXIST/);
      expect(readFileSync(file, "utf8")).to.equal(before);
    });

    it("is refused when group or others may read it, when it is missing, and when it is not 32 hex bytes", () => {
      const file = join(dir, "pepper");
      createPepperFile(file);
      for (const mode of [0o640, 0o604]) {
        chmodSync(file, mode);
        expect(expectCode(() => readPepperFile(file), GatewayConfigError, "GatewayConfigInvalid").message).to.match(/readable by group or others; chmod 600/);
      }
      expect(expectCode(() => readPepperFile(join(dir, "nowhere")), GatewayConfigError, "GatewayConfigInvalid").message).to.match(/ENOENT.*init/);
      const short = join(dir, "short");
      writeFileSync(short, "abcd\n", { mode: 0o600 });
      expect(expectCode(() => readPepperFile(short), GatewayConfigError, "GatewayConfigInvalid").message).to.match(/32 bytes as 64 hex digits/);
    });
  });
});
