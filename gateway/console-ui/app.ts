// The operator console's page: Preact components written with htm (tagged templates, no build-time
// JSX), bundled by esbuild into one script the gateway serves (build.mjs). It asks for the admin
// token once and keeps it in sessionStorage (this tab only, gone when it closes); every API call
// sends it as a Bearer header. The overview is fetched again every few seconds.
import htm from "htm";
import { h, render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";

const html = htm.bind(h);
const TOKEN_KEY = "iomt-console-token";
const REFRESH_MS = 2_000;

type ApiErrorBody = { code: string; message: string };
type Group = { gid: string; label: string | null };
type Device = {
  address: string;
  gid: string;
  oid: string;
  oidName: string | null;
  group: string | null;
  enrolled: boolean;
  enrolledAt: string | null;
  ticketIssuedAt: string | null;
  secret: string | null;
  association: { status: string; txHash: string | null; at: string | null } | null;
  member: { index: number; revoked: boolean } | null;
  nextNonce: number | null;
  messages: number;
  lastMessage: { nonce: number; status: string; acceptedAt: string | null; txHash: string | null; block: string | null } | null;
};
type Message = { digest: string; device: string; nonce: number; route: string; status: string; onChain: boolean; acceptedAt: string; batch: number | null; root: string | null; txHash: string | null; block: string | null; anchoredAt: string | null };
type Batch = { id: number; gid: string; root: string; size: number; status: string; txHash: string | null; block: string | null; errorCode: string | null; createdAt: string; anchoredAt: string | null };
type Overview = {
  gateway: { master: string; groups: Group[]; policy: string; publicUrl: string | null; secrets: boolean };
  health: {
    status: string;
    chain: { up: boolean; indexedBlock: string; lastError: string | null };
    standing: { gid: string; status: string }[];
    backlog: { pendingMessages: number; openBatches: number; messagesInOpenBatches: number };
    store: { ok: boolean; lastError: string | null };
    sessions: number;
  };
  devices: Device[];
  sessions: { live: number; sessions: { device: string; gid: string; revoked: boolean; establishedAt: string; expiresAt: string }[] };
  messages: Message[];
  batches: Batch[];
  backlog: { messages: { gid: string; route: string; status: string; count: number; oldestAcceptedAt: string }[]; associations: { device: string; status: string; createdAt: string }[] };
};
/** An action waiting for the operator's confirmation. */
type Pending = { title: string; text: string; confirm: string; danger: boolean; run: () => Promise<void> };

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${body.code}: ${body.message}`);
  }
}

async function api<T>(token: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json().catch(() => ({ error: { code: "BadAnswer", message: `HTTP ${response.status}, not JSON` } }))) as { error?: ApiErrorBody };
  if (!response.ok || json.error !== undefined) throw new ApiFailure(response.status, json.error ?? { code: `HTTP${response.status}`, message: response.statusText });
  return json as T;
}

/** A hash or address shortened for a table cell; the whole value in its tooltip and a data attribute. */
function Hash({ value, kind }: { value: string | null; kind: string }) {
  if (value === null) return html`<span class="muted">—</span>`;
  return html`<code title=${value} data-value=${value} data-kind=${kind}>${value.slice(0, 10)}…${value.slice(-6)}</code>`;
}

function Badge({ text, tone }: { text: string; tone: "ok" | "warn" | "bad" | "info" | "muted" }) {
  return html`<span class=${`badge ${tone}`}>${text}</span>`;
}

const time = (value: string | null) => (value === null ? "—" : value.replace("T", " ").replace(/\.\d+Z$/, "Z"));
const groupName = (groups: Group[], gid: string) => groups.find((group) => group.gid === gid)?.label ?? `${gid.slice(0, 10)}…`;

function Login({ onToken, error }: { onToken: (token: string) => void; error: string | null }) {
  const [value, setValue] = useState("");
  return html`
    <main class="login">
      <h1>iomt-auth gateway</h1>
      <p>Operator console. Paste the admin token: the contents of the file <code>adminTokenFile</code> names.</p>
      <form
        onSubmit=${(event: Event) => {
          event.preventDefault();
          if (value.trim() !== "") onToken(value.trim());
        }}
      >
        <label>Admin token <input type="password" autocomplete="off" value=${value} onInput=${(event: Event) => setValue((event.target as HTMLInputElement).value)} /></label>
        <button type="submit">Open the console</button>
      </form>
      ${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
    </main>
  `;
}

function Health({ overview }: { overview: Overview }) {
  const { health, gateway } = overview;
  const tone = health.status === "ok" ? "ok" : health.status === "degraded" ? "warn" : "bad";
  return html`
    <section aria-labelledby="health-title">
      <h2 id="health-title">Chain health</h2>
      <dl class="facts">
        <div><dt>Status</dt><dd data-test="status"><${Badge} text=${health.status} tone=${tone} /></dd></div>
        <div><dt>Chain</dt><dd>${health.chain.up ? html`<${Badge} text="reachable" tone="ok" />` : html`<${Badge} text="unreachable" tone="bad" />`}</dd></div>
        <div><dt>Indexed block</dt><dd>${health.chain.indexedBlock}</dd></div>
        <div><dt>Store</dt><dd>${health.store.ok ? html`<${Badge} text="writing" tone="ok" />` : html`<${Badge} text="failing" tone="bad" />`}</dd></div>
        <div><dt>Backlog</dt><dd>${health.backlog.pendingMessages} waiting, ${health.backlog.openBatches} open batches</dd></div>
        <div><dt>Master</dt><dd><${Hash} value=${gateway.master} kind="master" /></dd></div>
        <div><dt>Policy</dt><dd>${gateway.policy}</dd></div>
      </dl>
      ${health.chain.lastError === null ? null : html`<p class="error">Last chain error: ${health.chain.lastError}</p>`}
      ${health.store.lastError === null ? null : html`<p class="error">Last store error: ${health.store.lastError}</p>`}
      <ul class="standing">
        ${health.standing.map(({ gid, status }) => html`<li>Group ${groupName(gateway.groups, gid)}: <${Badge} text=${status} tone=${status === "ok" ? "ok" : "bad"} /></li>`)}
      </ul>
    </section>
  `;
}

function EnrolForm({ groups, secrets, ask }: { groups: Group[]; secrets: boolean; ask: (pending: Omit<Pending, "run">, body: Record<string, unknown>) => void }) {
  const [oid, setOid] = useState("");
  const [address, setAddress] = useState("");
  const [gid, setGid] = useState(groups[0]?.gid ?? "");
  const [secret, setSecret] = useState(secrets);
  const input = (set: (value: string) => void) => (event: Event) => set((event.target as HTMLInputElement).value);
  return html`
    <section aria-labelledby="enrol-title">
      <h2 id="enrol-title">Enrol a device</h2>
      <form
        class="enrol"
        onSubmit=${(event: Event) => {
          event.preventDefault();
          ask({ title: "Enrol this device?", text: `${oid} (${address}) in group ${groupName(groups, gid)}${secret ? ", with a generated secret shown once" : ", without a secret"}.`, confirm: "Enrol", danger: false }, { oid, address, gid, secret });
        }}
      >
        <label>oid <input name="oid" required placeholder="bed-12/spo2" value=${oid} onInput=${input(setOid)} /></label>
        <label>Device address <input name="address" required placeholder="0x…" value=${address} onInput=${input(setAddress)} /></label>
        <label
          >Group
          <select name="group" value=${gid} onChange=${input(setGid)}>
            ${groups.map((group) => html`<option value=${group.gid}>${group.label ?? group.gid}</option>`)}
          </select>
        </label>
        <label class="check"><input type="checkbox" checked=${secret} disabled=${!secrets} onChange=${(event: Event) => setSecret((event.target as HTMLInputElement).checked)} /> generate an enrolment secret</label>
        <button type="submit">Enrol…</button>
      </form>
    </section>
  `;
}

function Bundle({ bundle, onClose }: { bundle: unknown; onClose: () => void }) {
  const text = JSON.stringify(bundle, null, 2);
  const download = () => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([`${text}\n`], { type: "application/json" }));
    link.download = "provisioning-bundle.json";
    link.click();
    URL.revokeObjectURL(link.href);
  };
  return html`
    <section class="bundle" aria-labelledby="bundle-title">
      <h2 id="bundle-title">Provisioning bundle</h2>
      <p>Load this into the device's firmware. Its secret is shown <strong>once</strong>: the gateway keeps only a peppered hash.</p>
      <pre data-test="bundle">${text}</pre>
      <div class="buttons">
        <button type="button" onClick=${() => void navigator.clipboard?.writeText(text)}>Copy</button>
        <button type="button" onClick=${download}>Download</button>
        <button type="button" onClick=${onClose}>Done</button>
      </div>
    </section>
  `;
}

function Devices({ overview, act }: { overview: Overview; act: (action: "revoke" | "unenrol", device: Device) => void }) {
  const { devices, gateway } = overview;
  return html`
    <section aria-labelledby="devices-title">
      <h2 id="devices-title">Devices <span class="count">${devices.length}</span></h2>
      <table>
        <thead><tr><th>oid</th><th>Address</th><th>Group</th><th>Enrolled</th><th>Associated</th><th>On chain</th><th>Next nonce</th><th>Messages</th><th>Last message</th><th>Actions</th></tr></thead>
        <tbody>
          ${devices.length === 0 ? html`<tr><td colspan="10" class="muted">No device is enrolled or associated yet.</td></tr>` : null}
          ${devices.map((device) => {
            const revoked = device.member?.revoked === true;
            return html`
              <tr data-device=${device.address.toLowerCase()}>
                <td>${device.oidName ?? html`<${Hash} value=${device.oid} kind="oid" />`}</td>
                <td><${Hash} value=${device.address} kind="address" /></td>
                <td>${device.group ?? groupName(gateway.groups, device.gid)}</td>
                <td>${device.enrolled ? html`<${Badge} text=${`yes, secret ${device.secret}`} tone="info" />` : html`<${Badge} text="no" tone="muted" />`}</td>
                <td>${device.association === null ? "—" : html`<${Badge} text=${device.association.status} tone=${device.association.status === "associated" ? "ok" : device.association.status === "rejected" ? "bad" : "warn"} />`}</td>
                <td data-test="member">${device.member === null ? "—" : revoked ? html`<${Badge} text="revoked" tone="bad" />` : html`<${Badge} text=${`member #${device.member.index}`} tone="ok" />`}</td>
                <td>${device.nextNonce ?? "—"}</td>
                <td>${device.messages}</td>
                <td>${device.lastMessage === null ? "—" : html`#${device.lastMessage.nonce} ${device.lastMessage.status}${device.lastMessage.block === null ? "" : ` in block ${device.lastMessage.block}`}`}</td>
                <td class="actions">
                  ${device.member !== null && !revoked ? html`<button type="button" class="danger" onClick=${() => act("revoke", device)}>Revoke…</button>` : null}
                  ${device.enrolled ? html`<button type="button" onClick=${() => act("unenrol", device)}>Unenrol…</button>` : null}
                </td>
              </tr>
            `;
          })}
        </tbody>
      </table>
    </section>
  `;
}

function Sessions({ overview }: { overview: Overview }) {
  const { sessions, gateway } = overview;
  return html`
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions <span class="count">${sessions.live}</span></h2>
      <table>
        <thead><tr><th>Device</th><th>Group</th><th>Established</th><th>Expires</th></tr></thead>
        <tbody>
          ${sessions.sessions.length === 0 ? html`<tr><td colspan="4" class="muted">No live session.</td></tr>` : null}
          ${sessions.sessions.map(
            (session) => html`
              <tr>
                <td><${Hash} value=${session.device} kind="address" /> ${session.revoked ? html`<${Badge} text="revoked: every request refused" tone="bad" />` : null}</td>
                <td>${groupName(gateway.groups, session.gid)}</td>
                <td>${time(session.establishedAt)}</td>
                <td>${time(session.expiresAt)}</td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </section>
  `;
}

function Anchoring({ overview }: { overview: Overview }) {
  const { messages, batches, backlog } = overview;
  const tone = (status: string) => (status === "anchored" || status === "relayed" ? "ok" : status === "failed" ? "bad" : "warn");
  return html`
    <section aria-labelledby="messages-title">
      <h2 id="messages-title">Messages <span class="count">${messages.length}</span></h2>
      <table>
        <thead><tr><th>Digest</th><th>Device</th><th>Nonce</th><th>Accepted</th><th>State</th><th>Batch root</th><th>Transaction</th><th>Block</th></tr></thead>
        <tbody>
          ${messages.length === 0 ? html`<tr><td colspan="8" class="muted">No message yet.</td></tr>` : null}
          ${messages.map(
            (message) => html`
              <tr data-digest=${message.digest} data-device=${message.device.toLowerCase()}>
                <td><${Hash} value=${message.digest} kind="digest" /></td>
                <td><${Hash} value=${message.device} kind="address" /></td>
                <td>${message.nonce}</td>
                <td>${time(message.acceptedAt)}</td>
                <td data-test="state"><${Badge} text=${message.onChain ? (message.route === "relay" ? "relayed" : "anchored") : message.status} tone=${message.onChain ? "ok" : "warn"} /></td>
                <td><${Hash} value=${message.root} kind="root" /></td>
                <td><${Hash} value=${message.txHash} kind="tx" /></td>
                <td data-test="block">${message.block ?? "—"}</td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="batches-title">
      <h2 id="batches-title">Batches <span class="count">${batches.length}</span></h2>
      <table>
        <thead><tr><th>#</th><th>Root</th><th>Messages</th><th>State</th><th>Transaction</th><th>Block</th><th>Created</th><th>Anchored</th></tr></thead>
        <tbody>
          ${batches.length === 0 ? html`<tr><td colspan="8" class="muted">No batch yet.</td></tr>` : null}
          ${batches.map(
            (batch) => html`
              <tr data-batch=${batch.id}>
                <td>${batch.id}</td>
                <td><${Hash} value=${batch.root} kind="root" /></td>
                <td>${batch.size}</td>
                <td><${Badge} text=${batch.errorCode === null ? batch.status : `${batch.status}: ${batch.errorCode}`} tone=${tone(batch.status)} /></td>
                <td><${Hash} value=${batch.txHash} kind="tx" /></td>
                <td>${batch.block ?? "—"}</td>
                <td>${time(batch.createdAt)}</td>
                <td>${time(batch.anchoredAt)}</td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="backlog-title">
      <h2 id="backlog-title">Backlog</h2>
      ${backlog.messages.length === 0 && backlog.associations.length === 0 ? html`<p class="muted">Nothing waits for the chain.</p>` : null}
      <ul>
        ${backlog.messages.map((row) => html`<li>${row.count} ${row.route} message(s) ${row.status} in ${row.gid.slice(0, 10)}…, oldest ${time(row.oldestAcceptedAt)}</li>`)}
        ${backlog.associations.map((row) => html`<li>association of ${row.device} ${row.status} since ${time(row.createdAt)}</li>`)}
      </ul>
    </section>
  `;
}

function Confirm({ pending, busy, onCancel }: { pending: Pending; busy: boolean; onCancel: () => void }) {
  return html`
    <div class="overlay">
      <div role="dialog" aria-modal="true" aria-labelledby="confirm-title" class="dialog">
        <h2 id="confirm-title">${pending.title}</h2>
        <p>${pending.text}</p>
        <div class="buttons">
          <button type="button" onClick=${onCancel} disabled=${busy}>Cancel</button>
          <button type="button" class=${pending.danger ? "danger" : "primary"} disabled=${busy} onClick=${() => void pending.run()}>${busy ? "Working…" : pending.confirm}</button>
        </div>
      </div>
    </div>
  `;
}

function App() {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState<ApiErrorBody | null>(null);
  const [loginError, setLoginError] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [bundle, setBundle] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Bumped after each enrolment: the form is mounted afresh, empty.
  const [enrolments, setEnrolments] = useState(0);

  const signOut = useCallback((reason: string | null) => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setOverview(null);
    setLoginError(reason);
  }, []);

  const refresh = useCallback(async () => {
    if (token === null) return;
    try {
      setOverview(await api<Overview>(token, "/console/api/overview"));
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.body.code === "AdminUnauthorized") signOut(`${failure.body.code}: the gateway refused this token.`);
      else setError(failure instanceof ApiFailure ? failure.body : { code: "Unreachable", message: String(failure) });
    }
  }, [token, signOut]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  if (token === null) {
    return html`<${Login}
      error=${loginError}
      onToken=${(value: string) => {
        sessionStorage.setItem(TOKEN_KEY, value);
        setLoginError(null);
        setToken(value);
      }}
    />`;
  }

  /** Asks for confirmation, then runs the action; its refusal is shown with its code. */
  const confirmThen = (prompt: Omit<Pending, "run">, action: () => Promise<void>) =>
    setPending({
      ...prompt,
      run: async () => {
        setBusy(true);
        setError(null);
        try {
          await action();
        } catch (failure) {
          if (failure instanceof ApiFailure && failure.body.code === "AdminUnauthorized") signOut(`${failure.body.code}: the gateway refused this token.`);
          setError(failure instanceof ApiFailure ? failure.body : { code: "Unreachable", message: String(failure) });
        } finally {
          setBusy(false);
          setPending(null);
          void refresh();
        }
      },
    });

  const enrol = (prompt: Omit<Pending, "run">, body: Record<string, unknown>) =>
    confirmThen(prompt, async () => {
      const answer = await api<{ enrolled: { oid: string }; provisioning: unknown }>(token, "/console/api/enrol", body);
      setBundle(answer.provisioning);
      setEnrolments((count) => count + 1);
      setNotice(`Enrolled ${String(body.oid)}.`);
    });

  const act = (action: "revoke" | "unenrol", device: Device) => {
    const name = device.oidName ?? device.oid;
    const body = { oid: device.oid, gid: device.gid };
    if (action === "revoke") {
      confirmThen({ title: "Revoke this device on chain?", text: `${name} (${device.address}) is revoked in the registry with the Master key, for good: every gateway refuses it from then on.`, confirm: "Revoke", danger: true }, async () => {
        const { revoked } = await api<{ revoked: { txHash: string; block: string } }>(token, "/console/api/revoke", body);
        setNotice(`Revoked ${name} in block ${revoked.block} (transaction ${revoked.txHash}).`);
      });
    } else {
      confirmThen({ title: "Unenrol this device?", text: `${name} gets no ticket here from now on. This does not revoke it on chain: an associated device stays a member until revoked.`, confirm: "Unenrol", danger: false }, async () => {
        const answer = await api<{ warning?: string }>(token, "/console/api/unenrol", body);
        setNotice(`Unenrolled ${name}.${answer.warning === undefined ? "" : ` Warning: ${answer.warning}`}`);
      });
    }
  };

  return html`
    <header>
      <h1>iomt-auth gateway <span>operator console</span></h1>
      <button type="button" class="quiet" onClick=${() => signOut(null)}>Forget the token</button>
    </header>
    <main>
      ${error === null
        ? null
        : html`<div class="error" role="alert" data-code=${error.code}>
            <strong>${error.code}</strong> ${error.message}
            <button type="button" class="quiet" aria-label="Dismiss" onClick=${() => setError(null)}>×</button>
          </div>`}
      ${notice === null ? null : html`<div class="notice" role="status">${notice} <button type="button" class="quiet" aria-label="Dismiss" onClick=${() => setNotice(null)}>×</button></div>`}
      ${overview === null
        ? html`<p class="muted">Loading…</p>`
        : html`
            <${Health} overview=${overview} />
            <${EnrolForm} key=${enrolments} groups=${overview.gateway.groups} secrets=${overview.gateway.secrets} ask=${enrol} />
            ${bundle === null ? null : html`<${Bundle} bundle=${bundle} onClose=${() => setBundle(null)} />`}
            <${Devices} overview=${overview} act=${act} />
            <${Sessions} overview=${overview} />
            <${Anchoring} overview=${overview} />
          `}
    </main>
    ${pending === null ? null : html`<${Confirm} pending=${pending} busy=${busy} onCancel=${() => setPending(null)} />`}
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
