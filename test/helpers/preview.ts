// A real `almanac preview` in a child process, and raw HTTP to it: every header (Host included) and
// every byte of the request target exactly as given, which an HTTP client library would not allow.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { BIN } from './cli.ts';

export interface RunningPreview {
  base: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startPreview(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningPreview> {
  const child = spawn(process.execPath, [BIN, 'preview', '--port', '0', ...args], { env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  const pattern = /Preview at (http:\/\/127\.0\.0\.1:(\d+))\//;
  while (!pattern.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`preview did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const [, base, port] = pattern.exec(out)!;
  return {
    base: base!,
    port: Number(port),
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface RawResponse {
  /** Undefined when the server closed the connection without an answer. */
  status?: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One request over a fresh connection. `headers` are sent in order as given (a Host of undefined is
 * left out); an event stream is cut off once its headers have arrived.
 */
export function rawRequest(
  port: number,
  request: { method: string; target: string; headers: [string, string][]; body?: string },
  timeoutMs = 5_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${request.method} ${JSON.stringify(request.target)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve(parse(Buffer.concat(chunks).toString('latin1')));
    };
    socket.on('data', (c) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      if (/^content-type: text\/event-stream/im.test(text) && text.includes('\r\n\r\n')) {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', () => finish());
    const body = Buffer.from(request.body ?? '', 'utf8');
    const head = [`${request.method} ${request.target} HTTP/1.1`, ...request.headers.map(([k, v]) => `${k}: ${v}`), 'Connection: close'];
    if (request.body !== undefined) head.push(`Content-Length: ${body.length}`);
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
  });
}

function parse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!status || end < 0) return { headers: {}, body: '' };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(status[1]), headers, body: Buffer.from(text.slice(end + 4), 'latin1').toString('utf8') };
}
