// The DKIM signing thread: signs what it is sent with the keys it was started with, and answers with
// the signature fields only (the message stays with the sender).
import { parentPort, workerData } from 'node:worker_threads';
import { dkimSignatures, type DkimKey } from './dkim-sign.ts';
import type { SignReply, SignRequest } from './dkim-signer.ts';

const { keys } = workerData as { keys: DkimKey[] };
parentPort!.on('message', (req: SignRequest) => {
  let reply: SignReply;
  try {
    reply = { id: req.id, signatures: dkimSignatures(Buffer.from(req.raw.buffer, req.raw.byteOffset, req.raw.byteLength), keys, req.now) };
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
