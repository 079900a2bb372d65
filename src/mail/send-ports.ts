// What the send loop works with, as listmonk's manager has its Store and Messenger: the ledger that
// records who is owed a copy and what became of it, and the transport that carries a message, each
// as the small interface the loop needs; and the job and settings a run is given.
import type { Edition } from '../compose/slots.ts';
import type { Recipient } from '../render/tokens.ts';
import type { Delivery, Ledger, RetryKind } from '../store/ledger.ts';
import type { MessageRuns, MessageTemplate } from './message.ts';

/** The part of the ledger a run uses: its lease, the queue of rows due, and one fenced write per step. */
export type SendLedger = Pick<Ledger, 'acquire' | 'renew' | 'release' | 'recoverInFlight' | 'enqueue' | 'requeue' | 'due' | 'step' | 'nextRetry' | 'counts' | 'pause'>;

/** Where messages go: nodemailer's pooled SMTP in production, anything with this shape in tests. */
export interface Transport {
  send(message: MessageRuns, envelope: { from: string; to: string }): Promise<void>;
  /**
   * Opens one session as a run would (connect, EHLO, STARTTLS if offered, AUTH) and closes it,
   * within a deadline; rejects with the server's answer. A transport with no session to check
   * (a scripted one) leaves it out.
   */
  verify?(): Promise<void>;
  close(): void;
}

export interface SendSettings {
  concurrency: number;
  maxAttempts: number;
  /** Backoff before retry n (1-based): base · 2^(n-1), capped. */
  retryBaseMs: number;
  retryMaxMs: number;
  leaseMs: number;
  /** After a stop signal, how long messages in flight may take before they are recorded uncertain. */
  stopMs: number;
  /** The longest wait for the sending quota within a run; a longer one pauses the run with the rest queued. */
  quotaWaitMs: number;
}

export interface SendJob {
  issueId: string;
  edition: Edition;
  envelopeFrom: string;
  template: MessageTemplate;
  /** Set for `issue send --retry`: send again to the readers who failed, or whose copy is uncertain, instead of queuing the edition's readers. */
  retry?: RetryKind;
  /** Each reader's own values: Message-ID, signed links, and the return path (VERP) when there is one. */
  personalise: (d: Delivery) => { messageId: string; unsubscribeUrl: string; unsubscribeMailto: string; tokens: Recipient; returnPath?: string };
}

export interface SendProgress {
  /** Rows this run set out to settle. */
  total: number;
  sent: number;
  failed: number;
  retried: number;
  skipped: number;
}
