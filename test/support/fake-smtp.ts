import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  raw: string;
}

/**
 * An SMTP server on loopback that keeps every mail it receives, and the
 * `notify.email` config that sends to it.
 */
export async function smtpSink() {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    mails,
    email: {
      driver: 'smtp' as const,
      from: 'easy-chat <noreply@example.test>',
      smtp: { host: '127.0.0.1', port, secure: false, user: '', password: '', timeoutMs: 5_000 },
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
