import { type Column, isNull, lt, or, type SQL } from 'drizzle-orm';

/**
 * Leases on claimed rows (outbox messages, swarm set-ups, GitHub calls, postmortem uploads) are short, so the work of an
 * instance that died is taken over within seconds; while the work is alive, its
 * instance renews them, so slow work is never taken over from a live instance.
 */
export const leaseMs = 10_000;

/** Renewed this often: two renewals may fail (a slow database) before the lease runs out. */
export const leaseRenewalMs = 3_000;

/** Runs `work`, calling `renew` every `leaseRenewalMs` until it settles. A failed renewal is reported and retried on the next tick. */
export async function whileRenewing<T>(renew: () => Promise<unknown>, onRenewalError: (error: unknown) => void, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => void renew().catch(onRenewalError), leaseRenewalMs);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** A row's lease is free to claim: never taken, or run out by `now`. */
export const leaseFree = (lockedUntil: Column, now: Date): SQL | undefined => or(isNull(lockedUntil), lt(lockedUntil, now));
