// The run's connections and the batches that feed them: a fixed number of workers (one per SMTP
// connection) take rows due from the ledger, a batch at a time, fill the issue's precompiled message
// with each reader's own links and hand it to the transport. Each worker writes the outcome of its
// last message and the claim of its next one in a single transaction: one commit per message, and
// still at most one message per connection whose fate the ledger does not know if the process dies
// at any instant.
import type { Delivery } from '../store/ledger.ts';
import type { SendJob, SendLedger, SendProgress, Transport } from './send-ports.ts';
import type { Halt, Recorder, Settled } from './send-record.ts';

/** Rows read from the ledger at a time: large enough that reading is cheap, small enough to stay flat in memory. */
const DUE_BATCH = 200;

export interface PipeOptions {
  job: SendJob;
  ledger: SendLedger;
  transport: Transport;
  recorder: Recorder;
  halt: Halt;
  progress: SendProgress;
  /** The real time, for what is due and for retries. */
  realClock: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The longest wait for the quota within a run; a longer one pauses the run. */
  quotaWaitMs: number;
  /** Renews the lease when it is time to; called between messages. */
  renewIfDue: () => void;
  /** Called with every row about to be sent (tests pause or steal the lease here). */
  beforeSend?: (d: Delivery) => void | Promise<void>;
}

export class Pipe {
  private readonly queue: Delivery[] = [];
  /** Rows a worker of this run is sending right now; past the stop deadline, abandoned to uncertainty. */
  readonly inFlight = new Map<number, Delivery>();

  constructor(private readonly o: PipeOptions) {}

  /** Runs `connections` workers until nothing is left to send or the run stops. */
  run(connections: number): Promise<void[]> {
    return Promise.all(Array.from({ length: connections }, () => this.worker()));
  }

  /** The next row due, reading a batch when the last one is used up; none once the run is stopping. */
  private next(): Delivery | undefined {
    if (this.o.halt.stopping) return undefined;
    this.o.renewIfDue();
    if (this.queue.length === 0) this.queue.push(...this.o.ledger.due(this.o.job.issueId, DUE_BATCH, this.o.realClock()).filter((d) => !this.inFlight.has(d.subscriberId)));
    return this.queue.shift();
  }

  private async worker(): Promise<void> {
    const { job, recorder, halt } = this.o;
    let pending: Settled | undefined;
    for (;;) {
      const next = this.next();
      if (next && next.subscriberStatus !== 'active') {
        // Unsubscribed (or removed) since it was queued: nothing to send.
        recorder.write(pending, undefined);
        pending = { subscriberId: next.subscriberId, outcome: { state: 'skipped', reason: next.subscriberStatus } };
        this.o.progress.skipped++;
        continue;
      }
      const claim = recorder.write(pending, next?.subscriberId);
      pending = undefined;
      if (next && !claim.claimed && claim.quotaUntil !== undefined) {
        // The quota is used up: the row stays queued. A short wait (the per-second or per-minute
        // limit) is waited out here; a longer one pauses the run, to be resumed when it allows.
        this.queue.unshift(next);
        const wait = claim.quotaUntil - this.o.realClock();
        if (wait > this.o.quotaWaitMs) {
          halt.pause(claim.quotaUntil);
          return;
        }
        await this.o.sleep(Math.max(1, wait), halt.waits);
        continue;
      }
      if (next && !claim.claimed) {
        if (halt.stopping) return;
        continue; // settled or taken since the batch was read: not ours to send
      }
      if (!next) {
        if (halt.stopping) return;
        // Nothing due now: wait for the next retry, or finish when nothing is left.
        const retryAt = this.o.ledger.nextRetry(job.issueId);
        if (retryAt === undefined) return;
        await this.o.sleep(Math.max(50, retryAt - this.o.realClock()), halt.waits);
        continue;
      }
      this.inFlight.set(next.subscriberId, next);
      let error: unknown;
      try {
        await this.o.beforeSend?.(next);
        const personal = job.personalise(next);
        const runs = job.template.runsOf({ email: next.email, name: next.name, ...personal });
        await this.o.transport.send(runs, { from: personal.returnPath ?? job.envelopeFrom, to: next.email });
      } catch (err) {
        error = err ?? new Error('unknown error');
      }
      this.inFlight.delete(next.subscriberId);
      if (recorder.abandoned) return; // already recorded uncertain when the stop deadline passed
      pending = { subscriberId: next.subscriberId, outcome: recorder.outcomeOf(next, error) };
    }
  }
}
