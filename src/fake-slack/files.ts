import { SlackApiError } from './answers';
import type { WebApiMethods } from './types';
import type { FakeSlack } from './workspace';

/** files.*: the two-step external upload (announce, send the bytes, complete). */
export function filesMethods(slack: FakeSlack): WebApiMethods {
  return {
    'files.getUploadURLExternal': (args) => {
      const filename = String(args.filename ?? '');
      const length = Number(args.length);
      if (!filename || !Number.isInteger(length) || length <= 0) throw new SlackApiError('invalid_arguments');
      const id = slack.nextId('F');
      slack.uploads.set(id, { id, name: filename, title: filename, length });
      return { upload_url: `${slack.origin}/upload/${id}`, file_id: id };
    },

    'files.completeUploadExternal': (args) => {
      const requested = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as Array<{ id: string; title?: string }> | undefined;
      if (!Array.isArray(requested) || requested.length === 0) throw new SlackApiError('invalid_arguments');
      const files = requested.map(({ id, title }) => {
        const upload = slack.uploads.get(id);
        if (!upload?.bytes) throw new SlackApiError('file_not_found');
        return { ...upload, title: title ?? upload.name };
      });
      if (args.channel_id !== undefined) {
        const channel = slack.writableChannel(args.channel_id);
        const message = slack.post(channel.id, {
          text: String(args.initial_comment ?? ''),
          threadTs: args.thread_ts as string | undefined,
        });
        message.files = files;
      }
      return { files: files.map((file) => ({ id: file.id, name: file.name, title: file.title })) };
    },
  };
}
