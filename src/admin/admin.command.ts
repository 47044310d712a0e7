import { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { AppConfig } from '../config/app-config';
import { AdminAuthService } from './auth/admin-auth.service';
import { generatePassword, passwordProblem } from './auth/password';

interface Helpers {
  withContext<T>(opts: { workers: boolean }, fn: (app: INestApplicationContext, config: AppConfig) => Promise<T>): Promise<T>;
  out(s: string): void;
  usageError(message: string): Error;
}

/** Reads a password without echoing it (TTY), or one line from piped stdin (scripts). */
async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    for await (const chunk of stdin) data += chunk;
    return data.split(/\r?\n/)[0];
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (s: string) => {
      for (const c of s) {
        if (c === '\r' || c === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (c === '\u0003') {
          stdin.setRawMode(false);
          return reject(new Error('cancelled'));
        }
        if (c === '\u007f') value = value.slice(0, -1);
        else value += c;
      }
    };
    stdin.on('data', onData);
  });
}

async function choosePassword(generate: boolean | undefined, usageError: (m: string) => Error): Promise<{ password: string; generated: boolean }> {
  if (generate) return { password: generatePassword(), generated: true };
  const password = await readPassword('Password (12+ characters): ');
  const problem = passwordProblem(password);
  if (problem) throw usageError(problem);
  if (process.stdin.isTTY && (await readPassword('Again: ')) !== password) throw usageError('the passwords do not match');
  return { password, generated: false };
}

export function registerAdminCommands(program: Command, h: Helpers): void {
  program
    .command('admin:create')
    .description('create an admin of the console (asks for the password, reads it from stdin, or --generate prints one once)')
    .argument('<email>')
    .option('--generate', 'generate a password and print it once')
    .action(async (email: string, opts: { generate?: boolean }) => {
      const { password, generated } = await choosePassword(opts.generate, h.usageError);
      await h.withContext({ workers: false }, async (app) => {
        const id = await app.get(AdminAuthService).createAdmin(email, password);
        h.out(`admin ${id} created: ${email.trim().toLowerCase()}`);
        if (generated) h.out(`password (shown once, store it now): ${password}`);
      });
    });

  program
    .command('admin:password')
    .description("set an admin's password (ends every session of that admin)")
    .argument('<email>')
    .option('--generate', 'generate a password and print it once')
    .action(async (email: string, opts: { generate?: boolean }) => {
      const { password, generated } = await choosePassword(opts.generate, h.usageError);
      await h.withContext({ workers: false }, async (app) => {
        await app.get(AdminAuthService).resetPassword(email, password);
        h.out('password changed; every session of this admin has been logged out');
        if (generated) h.out(`password (shown once, store it now): ${password}`);
      });
    });
}
