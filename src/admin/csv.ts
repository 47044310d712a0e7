/**
 * CSV in both directions (RFC 4180). Export guards against formula injection: a cell a
 * spreadsheet would evaluate (=, +, -, @, tab, CR first) is prefixed with a quote.
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: unknown[]): string => cells.map(csvCell).join(',') + '\r\n';

export interface CsvRecord {
  /** 1-based line number where the record starts (the header is line 1). */
  line: number;
  cells: string[];
}

/** Parses CSV text into records with their starting line numbers; quoted fields may span lines. */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let fieldStarted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== '' || fieldStarted) out.push({ line: start, cells });
      cells = [];
      cell = '';
      fieldStarted = false;
      line++;
      start = line;
    } else {
      cell += c;
      fieldStarted = true;
    }
  }
  if (cell !== '' || cells.length || fieldStarted) {
    cells.push(cell);
    out.push({ line: start, cells });
  }
  return out;
}
