import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's advice: a request signed more than five minutes from now, either way, may be a replay. */
export const signatureWindowSeconds = 5 * 60;

export interface SignedRequest {
  signingSecret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  now: Date;
}

/**
 * Why a request is not Slack's, or undefined when its v0 signature holds and it was
 * signed within the window around `now`. Pure: the clock is an argument, as in
 * bolt-js' verify-request.
 */
export function signatureProblem(request: SignedRequest): string | undefined {
  const { signingSecret, body, timestamp, signature, now } = request;
  if (!signingSecret) return 'no signing secret is configured';
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return 'x-slack-request-timestamp is missing or not a number of seconds';
  if (!signature?.startsWith('v0=')) return 'x-slack-signature is missing or not a v0 signature';
  const skew = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (skew > signatureWindowSeconds) return `the request was signed ${Math.round(skew)} s away from now, outside the ${signatureWindowSeconds} s window`;
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the signature does not match';
  return undefined;
}
