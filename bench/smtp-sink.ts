/**
 * A discard SMTP server for the delivery benchmarks, run as its own process (so its CPU is not
 * the sender's). Prints `{"port":N}` once listening; answers an IPC "stats" message with
 * `{ messages, bytes }`. Run: node dist/bench/smtp-sink.js
 */
import { SMTPServer } from 'smtp-server';

let messages = 0;
let bytes = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('data', (c: Buffer) => (bytes += c.length));
    stream.on('end', () => {
      messages++;
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  const port = (server.server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('message', (m) => {
  if (m === 'stats') process.send?.({ messages, bytes });
});
process.on('disconnect', () => process.exit(0));
