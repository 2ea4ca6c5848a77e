import type { Json, ResponseTarget } from './types';
import type { FakeSlack } from './workspace';

/** A POST to a response_url: an ephemeral or in-channel reply, or a change to the source message. */
export function applyResponse(slack: FakeSlack, target: ResponseTarget, body: Json): void {
  const text = String(body.text ?? '');
  const blocks = body.blocks as Json[] | undefined;
  if (body.delete_original === true && target.sourceTs) {
    removeSource(slack, target);
    return;
  }
  if (body.replace_original === true && target.sourceTs) {
    const source = target.sourceIsEphemeral
      ? slack.ephemerals.find((message) => message.ts === target.sourceTs)
      : slack.messages.find((message) => message.channel === target.channel && message.ts === target.sourceTs);
    if (source) {
      source.text = text;
      source.blocks = blocks;
      return;
    }
  }
  if (body.response_type === 'in_channel') {
    slack.post(target.channel, { text, blocks });
  } else {
    slack.ephemerals.push({ channel: target.channel, user: target.user, text, blocks, ts: slack.nextTs() });
  }
}

function removeSource(slack: FakeSlack, target: { channel: string; sourceTs?: string; sourceIsEphemeral?: boolean }) {
  const list: Array<{ ts: string }> = target.sourceIsEphemeral ? slack.ephemerals : slack.messages;
  const index = list.findIndex((message) => message.ts === target.sourceTs);
  if (index >= 0) list.splice(index, 1);
}
