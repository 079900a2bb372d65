// The subscribe rate limiter and the client address it is keyed on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAddressOrCidr } from '../src/content/address.ts';
import { clientAddress, limitKey, trustList } from '../src/server/client-address.ts';
import { RateLimiter } from '../src/server/rate-limit.ts';

/** The same sliding-window estimate, exactly, with a map per key: what the sketch must match when keys are few. */
class Reference {
  private windows = new Map<string, { window: number; current: number; previous: number }>();
  constructor(private max: number, private windowMs: number) {}
  take(key: string, now: number): boolean {
    const window = Math.floor(now / this.windowMs);
    let w = this.windows.get(key) ?? { window, current: 0, previous: 0 };
    if (w.window !== window) w = { window, current: w.window === window - 1 ? 0 : 0, previous: w.window === window - 1 ? w.current : 0 };
    this.windows.set(key, w);
    const overlap = 1 - (now - window * this.windowMs) / this.windowMs;
    if (w.current + w.previous * overlap >= this.max) return false;
    w.current++;
    return true;
  }
}

describe('rate limiter', () => {
  it('with few keys, decides exactly as a per-key sliding window (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 30 }), dt: fc.integer({ min: 0, max: 25_000 }) }), { maxLength: 300 }),
        (max, steps) => {
          const windowMs = 60_000;
          const limiter = new RateLimiter(max, windowMs, { seed: 7 });
          const reference = new Reference(max, windowMs);
          let now = 1_750_000_000_000;
          for (const step of steps) {
            now += step.dt;
            const key = `198.51.100.${step.key}`;
            assert.equal(limiter.take(key, now) === 0, reference.take(key, now), `${key} at ${now}`);
          }
        },
      ),
      { seed: 20261206, numRuns: 300 },
    );
  });

  it('never lets a key through more than max times in one window, however many other keys flood it', () => {
    const limiter = new RateLimiter(5, 600_000, { width: 1024, depth: 4, seed: 1 });
    const now = 1_750_000_200_000;
    let allowed = 0;
    for (let i = 0; i < 200_000; i++) {
      limiter.take(`flood-${i}`, now);
      if (i % 1000 === 0 && limiter.take('203.0.113.9', now) === 0) allowed++;
    }
    assert.ok(allowed <= 5, `${allowed} allowed`);
    assert.ok(limiter.take('203.0.113.9', now) > 0);
  });

  it('a million distinct keys: memory stays fixed and each lookup costs the same', () => {
    const limiter = new RateLimiter(5, 600_000);
    const bytes = limiter.bytes;
    const now = 1_750_000_000_000;
    const heapBefore = process.memoryUsage().heapUsed;
    const timeSlice = (from: number) => {
      const start = performance.now();
      for (let i = from; i < from + 100_000; i++) limiter.take(`2001:db8:${i.toString(16)}::/64`, now + (i % 1000));
      return performance.now() - start;
    };
    const first = timeSlice(0);
    for (let i = 1; i < 9; i++) timeSlice(i * 100_000);
    const last = timeSlice(900_000);
    const heapAfter = process.memoryUsage().heapUsed;
    assert.equal(limiter.bytes, bytes);
    assert.ok(bytes <= 4 * 1024 * 1024, `${bytes} bytes of counters`);
    // A map of a million keys would hold well over 50 MB.
    assert.ok(heapAfter - heapBefore < 20 * 1024 * 1024, `heap grew ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MB`);
    assert.ok(last < first * 3 + 20, `first 100,000 lookups ${first.toFixed(0)} ms, last 100,000 ${last.toFixed(0)} ms`);
  });

  it('answers how long to wait, and forgets after the window has passed', () => {
    const limiter = new RateLimiter(2, 60_000, { seed: 3 });
    const t = 60_000 * 1000 + 10_000;
    assert.equal(limiter.take('a', t), 0);
    assert.equal(limiter.take('a', t), 0);
    assert.equal(limiter.take('a', t), 50_000);
    assert.equal(limiter.take('a', t + 130_000), 0);
  });
});

describe('client address', () => {
  const proxies = trustList(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  it('is the socket address unless that is a trusted proxy', () => {
    assert.equal(clientAddress('203.0.113.5', '198.51.100.1', proxies), '203.0.113.5');
    assert.equal(clientAddress('::ffff:203.0.113.5', undefined, proxies), '203.0.113.5');
    assert.equal(clientAddress('127.0.0.1', undefined, proxies), '127.0.0.1');
    assert.equal(clientAddress('127.0.0.1', '198.51.100.1', undefined), '127.0.0.1');
    assert.equal(clientAddress(undefined, '198.51.100.1', proxies), 'unknown');
  });

  it('behind trusted proxies, is the right-most untrusted forwarded address', () => {
    assert.equal(clientAddress('127.0.0.1', '198.51.100.1', proxies), '198.51.100.1');
    assert.equal(clientAddress('127.0.0.1', '6.6.6.6, 198.51.100.1, 10.2.3.4', proxies), '198.51.100.1');
    assert.equal(clientAddress('::ffff:127.0.0.1', ['6.6.6.6', '198.51.100.1:4711'], proxies), '198.51.100.1');
    assert.equal(clientAddress('127.0.0.1', '[2001:db8::1]:443', proxies), '2001:db8::1');
    // Only proxies all the way: the left-most is the best there is.
    assert.equal(clientAddress('127.0.0.1', '10.9.9.9, 10.1.1.1', proxies), '10.9.9.9');
    // Garbage where an address should be: the last trusted hop, not the garbage.
    assert.equal(clientAddress('127.0.0.1', 'not-an-ip, 10.1.1.1', proxies), '10.1.1.1');
    assert.equal(clientAddress('127.0.0.1', '', proxies), '127.0.0.1');
  });

  it('whatever a client writes on the left, the answer is the address the first trusted proxy saw (property)', () => {
    const ipv4 = fc.tuple(fc.integer({ min: 11, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    fc.assert(
      fc.property(fc.array(fc.oneof(ipv4, fc.string())), ipv4, fc.array(fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.${a}.${b}.1`), { maxLength: 3 }), (spoofed, real, hops) => {
        const header = [...spoofed.map((s) => s.replace(/,/g, '')), real, ...hops].join(', ');
        assert.equal(clientAddress('127.0.0.1', header, proxies), real);
      }),
      { seed: 4242, numRuns: 500 },
    );
  });

  it('IPv4-mapped trustProxy entries (which the config accepts) are the IPv4 addresses they map', () => {
    const mapped = trustList(['::ffff:127.0.0.1', '::FFFF:10.0.0.0/104']);
    assert.equal(clientAddress('127.0.0.1', '203.0.113.7', mapped), '203.0.113.7');
    assert.equal(clientAddress('::ffff:10.9.8.7', '203.0.113.8', mapped), '203.0.113.8');
    assert.equal(clientAddress('11.0.0.1', '203.0.113.9', mapped), '11.0.0.1');
  });

  it('IPv6 clients are limited per /64', () => {
    assert.equal(limitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(limitKey('2001:db8:1:2::ffff'), '2001:db8:1:2::/64');
    assert.equal(limitKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(limitKey('::1'), '0:0:0:0::/64');
    assert.equal(limitKey('203.0.113.5'), '203.0.113.5');
  });

  it('trustProxy entries: addresses and CIDR blocks only', () => {
    for (const ok of ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '0.0.0.0/0']) assert.ok(isAddressOrCidr(ok), ok);
    for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '1.2.3', '', '10.0.0.0/x']) assert.ok(!isAddressOrCidr(bad), bad);
  });
});
