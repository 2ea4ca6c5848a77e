import { describe, expect, it } from 'vitest';
import { PostingLimits } from '../../src/fake-slack';

describe('the stand-in Slack’s posting limits', () => {
  it('allows about one post a second per channel and a workspace-wide rate with a burst', () => {
    let now = 0;
    const limits = new PostingLimits({ perChannelPerSecond: 1, workspacePerSecond: 3, now: () => now });
    expect(['C1', 'C2', 'C3'].map((channel) => limits.admit(channel))).toEqual([0, 0, 0]);
    expect(limits.admit('C4')).toBe(1); // the burst is spent
    now = 400;
    expect(limits.admit('C4')).toBe(0); // 1.2 tokens back
    expect(limits.admit('C1')).toBe(1); // C1 posted 400 ms ago
    now = 1000;
    expect(limits.admit('C1')).toBe(0);
    expect(limits.refused).toBe(2);
  });
});
