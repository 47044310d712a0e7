/**
 * A discard SMTP server for the delivery benchmarks, run as its own process (so its CPU is not
 * the sender's). Prints `{"port":N}` once listening; answers an IPC "stats" message with
 * `{ messages, bytes }`. Run: node dist/bench/smtp-sink.js
 *
 * It speaks plain SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; PIPELINING) over raw
 * sockets and finds the end of each message with a native Buffer search for CRLF.CRLF, so it
 * costs next to nothing per message. (smtp-server, which the first version used, un-dot-stuffs
 * the data through a JavaScript stream and took about as much CPU per message as the sender's
 * own SMTP client: it was half of the "raw limit" it was meant to measure.)
 */
import { createServer, Socket } from 'node:net';

let messages = 0;
let bytes = 0;

const END = Buffer.from('\r\n.\r\n');
const EHLO = '250-sink.localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n';

function session(socket: Socket): void {
  socket.setNoDelay(true);
  let data = false; // between DATA and the terminating line
  let carry: Buffer = Buffer.alloc(0); // command mode: a partial line; data mode: the last bytes seen (the terminator may span chunks)
  let size = 0;
  socket.write('220 sink.localhost ESMTP discard sink\r\n');
  socket.on('data', (chunk: Buffer) => {
    let buf: Buffer = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let replies = '';
    for (;;) {
      if (data) {
        const end = buf.indexOf(END);
        if (end < 0) {
          size += buf.length - Math.min(buf.length, 4);
          carry = buf.subarray(Math.max(0, buf.length - 4));
          break;
        }
        size += end;
        messages++;
        bytes += size;
        data = false;
        replies += '250 2.0.0 accepted\r\n';
        buf = buf.subarray(end + END.length);
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) {
        carry = buf.length > 4096 ? Buffer.alloc(0) : Buffer.from(buf);
        break;
      }
      const line = buf.toString('latin1', 0, eol);
      buf = buf.subarray(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') replies += EHLO;
      else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') replies += '250 2.0.0 OK\r\n';
      else if (verb === 'DATA') {
        replies += '354 go ahead\r\n';
        data = true;
        size = 0;
        // The terminator is CRLF.CRLF; the CRLF that ended the DATA line counts as its start.
        buf = Buffer.concat([Buffer.from('\r\n'), buf]);
        size = -2;
      } else if (verb === 'QUIT') {
        socket.end(`${replies}221 2.0.0 bye\r\n`);
        return;
      } else replies += '502 5.5.2 not implemented\r\n';
    }
    if (!data && buf.length === 0) carry = Buffer.alloc(0);
    if (replies) socket.write(replies);
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(session);
server.maxConnections = 1000;
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('message', (m) => {
  if (m === 'stats') process.send?.({ messages, bytes });
});
process.on('disconnect', () => process.exit(0));
