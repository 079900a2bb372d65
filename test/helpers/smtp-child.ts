// The SMTP sink in a process of its own: prints "listening <port>", then "received <address>" for
// each message it accepts. Run with: node --import tsx test/helpers/smtp-child.ts
import { smtpSink } from './smtp.ts';

const sink = await smtpSink();
process.stdout.write(`listening ${sink.port}\n`);
let reported = 0;
setInterval(() => {
  for (; reported < sink.messages.length; reported++) process.stdout.write(`received ${sink.messages[reported]!.to}\n`);
}, 20);
process.on('SIGTERM', () => void sink.close().then(() => process.exit(0)));
