import { AddressInfo } from 'node:net';
import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

export interface CapturedMail {
  raw: Buffer;
  envelopeTo: string[];
  parsed: ParsedMail;
}

/**
 * A real SMTP server in-process that keeps what it receives. `reply` lets a test decide the
 * answer to each message (e.g. 451 then 250, or 550).
 */
export class SmtpCapture {
  readonly messages: CapturedMail[] = [];
  /** `n` counts messages from 0; `to` is the message's envelope recipients, `from` its envelope sender. */
  reply: (n: number, to: string[], from: string) => { code: number; message: string } | undefined = () => undefined;
  private received = 0;

  private constructor(private readonly server: SMTPServer, readonly port: number) {}

  static async start(): Promise<SmtpCapture> {
    let self: SmtpCapture | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const n = self!.received++;
          const mailFrom = session.envelope.mailFrom;
          const answer = self!.reply(n, session.envelope.rcptTo.map((r) => r.address), mailFrom ? mailFrom.address : '');
          if (answer && answer.code >= 400) {
            const err = new Error(answer.message) as Error & { responseCode: number };
            err.responseCode = answer.code;
            callback(err);
            return;
          }
          const raw = Buffer.concat(chunks);
          self!.messages.push({ raw, envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed: await simpleParser(raw) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new SmtpCapture(server, (server.server.address() as AddressInfo).port);
    return self;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): CapturedMail[] {
    return this.messages.filter((m) => m.envelopeTo.includes(address));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
