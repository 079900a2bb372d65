// Amazon SNS messages, verified as AWS documents: the signing certificate comes only from an
// https://sns.<region>.amazonaws.com/…pem address, the signature (SignatureVersion 1: SHA1, 2: SHA256)
// covers the message's fields in their documented order, and the topic must be the one configured,
// since any AWS account's topic is signed by SNS just as well.
import { verify } from 'node:crypto';

export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

/** The PEM certificate (or public key) at a signing-certificate address. */
export type CertificateSource = (url: string) => Promise<string>;

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const SUBSCRIPTION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

export function isAwsSnsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname) && url.port === '' && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** The message, when it is well formed, from `topicArn` and signed by SNS; undefined otherwise. */
export async function verifySns(body: string, topicArn: string, certificate: CertificateSource): Promise<SnsMessage | undefined> {
  let m: Partial<SnsMessage>;
  try {
    m = JSON.parse(body) as Partial<SnsMessage>;
  } catch {
    return undefined;
  }
  if (!m || typeof m !== 'object') return undefined;
  const fields = m.Type === 'Notification' ? NOTIFICATION_FIELDS : m.Type === 'SubscriptionConfirmation' || m.Type === 'UnsubscribeConfirmation' ? SUBSCRIPTION_FIELDS : undefined;
  if (!fields || m.TopicArn !== topicArn) return undefined;
  if (typeof m.Signature !== 'string' || typeof m.SigningCertURL !== 'string' || !isAwsSnsUrl(m.SigningCertURL) || !/\.pem$/.test(new URL(m.SigningCertURL).pathname)) return undefined;
  const algorithm = m.SignatureVersion === '1' ? 'RSA-SHA1' : m.SignatureVersion === '2' ? 'RSA-SHA256' : undefined;
  if (!algorithm) return undefined;
  let signed = '';
  for (const field of fields) {
    const value = m[field];
    if (value === undefined && field === 'Subject') continue;
    if (typeof value !== 'string') return undefined;
    signed += `${field}\n${value}\n`;
  }
  try {
    const ok = verify(algorithm, Buffer.from(signed, 'utf8'), await certificate(m.SigningCertURL), Buffer.from(m.Signature, 'base64'));
    return ok ? (m as SnsMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** Fetches signing certificates over HTTPS with a deadline, each address once per process. */
export function httpsCertificates(timeoutMs = 10_000): CertificateSource {
  const cache = new Map<string, Promise<string>>();
  return (url) => {
    let pem = cache.get(url);
    if (!pem) {
      pem = fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' }).then(async (res) => {
        if (!res.ok) throw new Error(`the signing certificate answered ${res.status}`);
        return res.text();
      });
      pem.catch(() => cache.delete(url));
      cache.set(url, pem);
    }
    return pem;
  };
}
