import type { FakeSlack } from '../fake-slack';

/**
 * Text typed into Slack's composer, as Slack passes it on. Slack escapes `&`, `<`
 * and `>` and replaces what the person picked from its autocomplete (`@sam`,
 * `#incidents`, `@here`) with tokens: `<@U…|sam>` in an escaped slash command,
 * `<@U…>` in a message, `<#C…|incidents>` and `<!here>` in both.
 */
export function encodeTypedText(slack: FakeSlack, text: string, form: 'command' | 'message'): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(/(^|[\s(])([@#])([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)/gi, (token, before: string, sigil: string, name: string) => {
    const lower = name.toLowerCase();
    if (sigil === '#') {
      const channel = slack.channelByName(lower);
      return channel && !channel.isIm ? `${before}<#${channel.id}|${channel.name}>` : token;
    }
    if (['here', 'channel', 'everyone'].includes(lower)) return `${before}<!${lower}>`;
    const user = [...slack.users.values()].find((candidate) => candidate.name === lower);
    if (!user) return token;
    return form === 'command' ? `${before}<@${user.id}|${user.name}>` : `${before}<@${user.id}>`;
  });
}
