/**
 * Whether a query was refused by one of the unique indexes named (as the pg driver adapter
 * reports it: Prisma's error carries the adapter's cause, with the index name).
 */
export function isUniqueViolation(e: unknown, ...indexes: string[]): boolean {
  const cause = (e as { meta?: { driverAdapterError?: { cause?: { kind?: string; constraint?: { index?: string } } } } })?.meta?.driverAdapterError?.cause;
  return cause?.kind === 'UniqueConstraintViolation' && indexes.includes(cause.constraint?.index ?? '');
}
