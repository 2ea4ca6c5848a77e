import { ok, rateLimited, slackError } from './answers';
import type { InjectedFailure, WebApiAnswer } from './types';

/** Failures a test arranged with `failNext`: each answers the next calls of its method, `remaining` times. */
export class InjectedFailures {
  private readonly pending: Array<{ method: string; failure: InjectedFailure; remaining: number }> = [];

  add(method: string, failure: InjectedFailure, times: number): void {
    this.pending.push({ method, failure, remaining: times });
  }

  /** The answer for the next failure injected for `method`, counting it down. */
  take(method: string): { failure: InjectedFailure; answer: WebApiAnswer } | undefined {
    const index = this.pending.findIndex((entry) => entry.method === method);
    if (index < 0) return undefined;
    const entry = this.pending[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.pending.splice(index, 1);
    const { failure } = entry;
    if ('rateLimitedFor' in failure) return { failure, answer: rateLimited(failure.rateLimitedFor) };
    if ('httpStatus' in failure) return { failure, answer: { status: failure.httpStatus, headers: {}, body: { ok: false, error: 'fatal_error' } } };
    if ('delayMs' in failure) return { failure, answer: ok({}) };
    if ('lostAnswer' in failure) return { failure, answer: { status: failure.lostAnswer, headers: {}, body: { ok: false, error: 'fatal_error' } } };
    return { failure, answer: slackError(failure.error, failure.extra) };
  }
}
