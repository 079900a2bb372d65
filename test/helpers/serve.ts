// `almanac serve` in a child process, the way an operator runs it: its address once it listens,
// everything it printed, and whether it is still running.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { BIN } from './cli.ts';

export interface ServeProcess {
  base: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** The exit code once it exits; stays pending while it runs. */
  exited: Promise<number | null>;
  alive: () => boolean;
  stop: () => Promise<number | null>;
}

export async function startServe(root: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--root', root], { env: { ...process.env, SMTP_URL: '', ...env } });
  let out = '';
  let running = true;
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((running = false), resolve(code))));
  const deadline = Date.now() + timeoutMs;
  while (!/at http:\/\/127\.0\.0\.1:(\d+)\/\n/.test(out)) {
    if (!running || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)![1]);
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    exited,
    alive: () => running,
    stop: async () => {
      if (running) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends bytes as they are (no client normalising the path, the method or the headers) and reads the
 * answer until the server closes (send `Connection: close`); `status` 0 when it closed without
 * answering. With `hangUp`, the client closes its side right after writing.
 */
export function rawRequest(port: number, request: Buffer | string, options: { hangUp?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${String(request).slice(0, 80)}`));
    }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks)));
    });
    socket.write(request, () => {
      if (options.hangUp) socket.end();
    });
    socket.on('end', () => socket.end());
  });
}

export function parseResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: {}, body: raw };
  const lines = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: raw.subarray(split + 4) };
}
