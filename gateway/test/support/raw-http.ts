// Raw HTTP over a TCP socket, for what `fetch` cannot send: malformed requests, oversized
// headers, and clients that send slowly.
import { connect, type Socket } from "node:net";

export type RawExchange = {
  /** Everything the server wrote before it closed the socket. */
  response: string;
  /** Milliseconds from connecting until the server closed the socket. */
  closedAfterMs: number;
};

/**
 * Connects to `url`, writes `chunks` one by one `intervalMs` apart (stopping once the server closed
 * the socket), and resolves when the server closes it, or after `giveUpMs` with what came so far.
 */
export function rawExchange(url: string, chunks: readonly (string | Buffer)[], { intervalMs = 0, giveUpMs = 10_000 }: { intervalMs?: number; giveUpMs?: number } = {}): Promise<RawExchange & { closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(Number(port), hostname);
    let response = "";
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (didClose: boolean) => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      closed = true;
      resolve({ response, closedAfterMs: Date.now() - started, closed: didClose });
    };
    const giveUp = setTimeout(() => {
      socket.destroy();
      done(false);
    }, giveUpMs);
    socket.on("data", (chunk) => (response += chunk.toString("utf8")));
    socket.on("close", () => {
      if (!closed) done(true);
    });
    socket.on("error", () => undefined);
    let next = 0;
    const write = () => {
      if (closed || socket.destroyed || next >= chunks.length) return;
      socket.write(chunks[next++]);
      timer = setTimeout(write, intervalMs);
    };
    socket.on("connect", write);
  });
}

/** The JSON body of a raw HTTP/1.1 response. */
export function jsonBody(response: string): unknown {
  const at = response.indexOf("\r\n\r\n");
  return JSON.parse(response.slice(at + 4));
}

/** The status code of a raw HTTP/1.1 response. */
export function statusOf(response: string): number {
  return Number(response.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
}
