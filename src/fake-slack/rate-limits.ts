/**
 * Slack's limits on posting messages, enforced by the stand-in when asked: about
 * one message per second in each channel, and a workspace-wide rate with short
 * bursts. A post over either limit gets what Slack answers: 429 with Retry-After
 * in whole seconds.
 */
export interface PostingLimitOptions {
  /** Messages per second in one channel; Slack allows about 1. */
  perChannelPerSecond: number;
  /** Messages per second across the workspace; a burst of this many is allowed at once. */
  workspacePerSecond: number;
  /** Milliseconds now; the stand-in uses the wall clock, like Slack. */
  now?: () => number;
}

export class PostingLimits {
  /** Posts refused with a 429 so far. */
  refused = 0;
  private tokens: number;
  private refilledAt: number;
  private readonly lastPostIn = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: PostingLimitOptions) {
    this.now = options.now ?? Date.now;
    this.tokens = options.workspacePerSecond;
    this.refilledAt = this.now();
  }

  /** Takes a post to `channel` and answers 0, or refuses it and answers the seconds to wait. */
  admit(channel: string): number {
    const now = this.now();
    const { perChannelPerSecond, workspacePerSecond } = this.options;
    this.tokens = Math.min(workspacePerSecond, this.tokens + ((now - this.refilledAt) / 1000) * workspacePerSecond);
    this.refilledAt = now;
    const channelWaitMs = (this.lastPostIn.get(channel) ?? -Infinity) + 1000 / perChannelPerSecond - now;
    const workspaceWaitMs = this.tokens >= 1 ? 0 : ((1 - this.tokens) / workspacePerSecond) * 1000;
    const waitMs = Math.max(channelWaitMs, workspaceWaitMs);
    if (waitMs > 0) {
      this.refused += 1;
      return Math.max(1, Math.ceil(waitMs / 1000));
    }
    this.tokens -= 1;
    this.lastPostIn.set(channel, now);
    return 0;
  }
}
