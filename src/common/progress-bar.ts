/**
 * A one-line progress bar for the CLI, on stderr so stdout stays parseable. On a terminal it
 * redraws in place; otherwise (CI, a pipe) it prints a line whenever the done count changes.
 */
export class ProgressBar {
  private lastLine = '';

  constructor(
    private readonly stream: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): boolean },
    private readonly label: string,
    private readonly width = 30,
  ) {}

  static render(label: string, done: number, total: number, suffix: string, width = 30): string {
    const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
    const filled = Math.round(ratio * width);
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}${suffix ? ' ' + suffix : ''}`;
  }

  update(done: number, total: number, suffix = ''): void {
    const line = ProgressBar.render(this.label, done, total, suffix, this.width);
    if (line === this.lastLine) return;
    if (this.stream.isTTY) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(line + '\n');
    this.lastLine = line;
  }

  /** Ends the redrawn line on a terminal. */
  stop(): void {
    if (this.stream.isTTY && this.lastLine) this.stream.write('\n');
  }
}
