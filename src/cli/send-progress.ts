import { SingleBar } from 'cli-progress';
import type { newProgress } from '../mail/send.ts';

/** A bar with rate and ETA on a terminal; a plain line every few seconds otherwise. */
export function progressDisplay(label: string, p: ReturnType<typeof newProgress>): { stop: () => void } {
  const done = () => p.sent + p.failed + p.skipped;
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} · {rate}/s · ETA {eta_formatted}`, stream: process.stderr, hideCursor: true });
    let started = false;
    const started0 = Date.now();
    const timer = setInterval(() => {
      if (!started && p.total) {
        bar.start(p.total, 0, { rate: 0 });
        started = true;
      }
      if (started) bar.update(done(), { rate: (p.sent / Math.max(0.001, (Date.now() - started0) / 1000)).toFixed(0) });
    }, 200);
    return { stop: () => (clearInterval(timer), started && bar.stop()) };
  }
  const started0 = Date.now();
  const timer = setInterval(() => {
    const rate = p.sent / Math.max(0.001, (Date.now() - started0) / 1000);
    const left = Math.max(0, p.total - done());
    process.stderr.write(`${label}: ${done()}/${p.total} · ${rate.toFixed(0)}/s · ETA ${rate ? Math.ceil(left / rate) : '?'} s\n`);
  }, 5000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
