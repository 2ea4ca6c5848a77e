import { describe, expect, it } from 'vitest';
import { FakeSlack } from '../../src/fake-slack';
import { encodeTypedText } from '../../src/sandbox/typed-text';

describe('text typed in the composer', () => {
  const slack = new FakeSlack({ origin: 'http://slack.test' });
  slack.addUser({ id: 'U0SAM', name: 'sam' });
  slack.addChannel({ id: 'C0ACME', name: 'acme-customer' });

  it('is escaped, with people and channels as Slack tokens, as an escaped slash command receives it', () => {
    expect(encodeTypedText(slack, 'commander @sam in #acme-customer, cc @here & <b>', 'command')).toBe(
      'commander <@U0SAM|sam> in <#C0ACME|acme-customer>, cc <!here> &amp; &lt;b&gt;',
    );
  });

  it('names people by ID alone in a message, and leaves unknown names and e-mail addresses as typed', () => {
    expect(encodeTypedText(slack, 'thanks @Sam! (@nobody, #nowhere, sam@example.com)', 'message')).toBe(
      'thanks <@U0SAM>! (@nobody, #nowhere, sam@example.com)',
    );
  });
});
