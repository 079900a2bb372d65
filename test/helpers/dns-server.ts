// A real DNS server on loopback (the dns2 package), serving a zone given as data: TXT (one or several
// strings per record), A, AAAA and MX; any other name is NXDOMAIN, a known name without the asked type
// is an empty answer. It listens on UDP and TCP on the same port, as a resolver retries a truncated
// UDP answer (an RSA-2048 DKIM record is near the 512-byte limit) over TCP.
// `silentDnsServer` receives queries and never answers, for timeouts.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;
const NXDOMAIN = 3;

export interface Zone {
  /** Each record is its strings, as published: ["v=DKIM1; k=rsa; p=…", "…"]. A plain string is split into strings of 255 characters. */
  TXT?: Record<string, (string | string[])[]>;
  A?: Record<string, string[]>;
  AAAA?: Record<string, string[]>;
  MX?: Record<string, { exchange: string; priority: number }[]>;
}

export interface DnsServer {
  /** "127.0.0.1:PORT", as --resolver and ALMANAC_DNS_SERVER take it. */
  address: string;
  /** Names asked, lower case, with their type: "TXT s1._domainkey.example.org". */
  queries: string[];
  close(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { [Packet.TYPE.A]: 'A', [Packet.TYPE.AAAA]: 'AAAA', [Packet.TYPE.MX]: 'MX', [Packet.TYPE.TXT]: 'TXT' };

/** A DNS character-string holds at most 255 bytes. */
function characterStrings(value: string): string[] {
  const strings: string[] = [];
  for (let i = 0; i < value.length; i += 255) strings.push(value.slice(i, i + 255));
  return strings.length ? strings : [''];
}

function lowerKeys<T>(records: Record<string, T> | undefined): Map<string, T> {
  return new Map(Object.entries(records ?? {}).map(([name, value]) => [name.toLowerCase().replace(/\.$/, ''), value]));
}

export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const txt = lowerKeys(zone.TXT);
  const a = lowerKeys(zone.A);
  const aaaa = lowerKeys(zone.AAAA);
  const mx = lowerKeys(zone.MX);
  const known = new Set([...txt.keys(), ...a.keys(), ...aaaa.keys(), ...mx.keys()]);
  const queries: string[] = [];
  const answer = (request: InstanceType<typeof Packet>): InstanceType<typeof Packet> => {
    const response = Packet.createResponseFromRequest(request);
    const question = request.questions[0];
    if (!question) return response;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const base = { name: question.name, class: Packet.CLASS.IN, ttl: 60 };
    queries.push(`${TYPE_NAMES[question.type] ?? question.type} ${name}`);
    // dns2 has RCODE but its typings leave it out; 3 is NXDOMAIN (RFC 1035 4.1.1).
    if (!known.has(name)) response.header.rcode = NXDOMAIN;
    else if (question.type === Packet.TYPE.TXT) for (const data of txt.get(name) ?? []) response.answers.push({ ...base, type: Packet.TYPE.TXT, data: typeof data === 'string' ? characterStrings(data) : data } as never);
    else if (question.type === Packet.TYPE.A) for (const address of a.get(name) ?? []) response.answers.push({ ...base, type: Packet.TYPE.A, address } as never);
    else if (question.type === Packet.TYPE.AAAA) for (const address of aaaa.get(name) ?? []) response.answers.push({ ...base, type: Packet.TYPE.AAAA, address } as never);
    else if (question.type === Packet.TYPE.MX) for (const r of mx.get(name) ?? []) response.answers.push({ ...base, type: Packet.TYPE.MX, exchange: r.exchange, priority: r.priority } as never);
    return response;
  };
  // UDP takes a free port first; TCP then binds the same one (rarely taken already: try another).
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = dns2.createUDPServer((request, send) => void send(answer(request)).catch(() => undefined));
    const tcp = dns2.createTCPServer((request, send) => void send(answer(request)).catch(() => undefined));
    // A resolver may keep its TCP connection open: close() ends them rather than wait for it.
    const connections = new Set<Socket>();
    tcp.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const port = udp.address().port;
    const listening = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false);
      tcp.once('error', onError);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', onError);
        resolve(true);
      });
    });
    if (listening) {
      return {
        address: `127.0.0.1:${port}`,
        queries,
        close: async () => {
          for (const socket of connections) socket.destroy();
          await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
        },
      };
    }
    await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

/** A UDP socket on loopback that takes every query and answers none. */
export async function silentDnsServer(): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', () => queries.push('?'));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
