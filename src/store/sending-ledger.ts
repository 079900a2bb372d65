// The ledger as an issue run uses it, whoever starts the run (`issue send` or the scheduler): a reader
// refused at send time is bounced and the refusal kept in their history, and every claim is counted
// against the provider's quota.
import type { Config } from '../content/config-schema.ts';
import type { Db } from './database.ts';
import { SqliteLedger } from './ledger.ts';
import { recordRefusal } from './mail-events.ts';
import { sqliteQuota } from './quota.ts';
import { SqliteSubscribers } from './subscribers.ts';

export function sendingLedger(db: Db, config: Config, clock: () => number = Date.now): SqliteLedger {
  const subscribers = new SqliteSubscribers(db);
  return new SqliteLedger(db, {
    bounce: (id, now, refusal) => {
      subscribers.setStatus(id, 'bounced', now);
      recordRefusal(db, id, refusal.issueId, refusal.error, now);
    },
    quota: sqliteQuota(db, config.sending.limits, clock),
  });
}
