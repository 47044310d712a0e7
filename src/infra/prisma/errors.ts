/**
 * Whether a query was refused by one of the unique indexes named (as the pg driver adapter
 * reports it: Prisma's error carries the adapter's cause, with the index name).
 */
export function isUniqueViolation(e: unknown, ...indexes: string[]): boolean {
  const cause = (e as { meta?: { driverAdapterError?: { cause?: { kind?: string; constraint?: { index?: string } } } } })?.meta?.driverAdapterError?.cause;
  return cause?.kind === 'UniqueConstraintViolation' && indexes.includes(cause.constraint?.index ?? '');
}

/**
 * Runs `attempt` again while one of the unique indexes named refuses it (a concurrent writer took
 * the row first: run again, it sees that row), `times` runs at the most; any other error, and the
 * last refusal, are thrown.
 */
export async function retryOnUniqueViolation<T>(times: number, indexes: string[], attempt: () => Promise<T>): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await attempt();
    } catch (e) {
      if (run >= times || !isUniqueViolation(e, ...indexes)) throw e;
    }
  }
}
