/**
 * The wait before retry number `attempt` (1 for the first retry): `firstMs`, doubling each time,
 * at most `maxMs`. What a retry loop waits so that a dependency that is down is not hammered.
 */
export function backoffMs(attempt: number, { firstMs, maxMs }: { firstMs: number; maxMs: number }): number {
  return Math.min(maxMs, firstMs * 2 ** (attempt - 1));
}
