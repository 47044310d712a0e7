/** A digest as any source delivers it, before it is stored. */
export interface DigestInput {
  source: string;
  /** Calendar date of the digest (UTC midnight). */
  date: Date;
  papers: PaperInput[];
}

export interface PaperInput {
  title: string;
  abstract: string;
  url?: string | null;
  arxivId?: string | null;
  authors?: string[];
  publishedAt?: Date | null;
  /** Merged in from feed sources when present (issue #7). */
  arxivVersion?: number | null;
  pdfUrl?: string | null;
  codeUrl?: string | null;
  projectUrl?: string | null;
  upvotes?: number | null;
  categories?: string[];
}

export interface IngestResult {
  digestId: number;
  /** False when the same digest had been ingested before (a no-op). */
  created: boolean;
  source: string;
  date: string;
  papers: number;
  /** Papers seen for the first time (the rest were already stored from another digest). */
  newPapers: number;
  /** Known papers that gained a field (link, upvotes, categories, …) from this digest. */
  updatedPapers: number;
}

/** Bad input, with a message that names the line or field. Maps to HTTP 400 and CLI exit 2. */
export class DigestFormatError extends Error {
  constructor(message: string, readonly line?: number, readonly field?: string) {
    super(message);
  }
}
