/**
 * Tells a channel's 429 from the workspace's. Slack limits posts per channel (about
 * one a second) and per workspace, and its 429 does not say which. One channel
 * rate limited is that channel's business: only its messages wait. Several
 * channels rate limited within a second means the workspace is at its limit, and
 * every further call would earn a 429 too, so the sender pauses as a whole until
 * Retry-After has passed.
 */
export class WorkspacePause {
  private pausedUntilMs = 0;
  /** Channel → when it was last rate limited (ms). */
  private readonly limited = new Map<string, number>();

  constructor(private readonly channelsThatMeanWorkspace = 3) {}

  /** Records a 429 for `channel` at `nowMs`; answers how long the whole sender should pause, or 0. */
  rateLimited(channel: string, nowMs: number, retryAfterMs: number): number {
    this.limited.set(channel, nowMs);
    for (const [other, at] of this.limited) if (nowMs - at >= 1000) this.limited.delete(other);
    if (this.limited.size < this.channelsThatMeanWorkspace) return 0;
    this.limited.clear();
    this.pausedUntilMs = Math.max(this.pausedUntilMs, nowMs + retryAfterMs);
    return this.pausedUntilMs - nowMs;
  }

  /** When sending may resume (ms), or undefined when not paused at `nowMs`. */
  pausedUntil(nowMs: number): number | undefined {
    return nowMs < this.pausedUntilMs ? this.pausedUntilMs : undefined;
  }
}
