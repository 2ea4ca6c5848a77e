import { createServer, type Server } from 'node:http';
import { type FakeSlack, parseWebApiBody, uploadedBytes, type WebApiAnswer } from './workspace';

/**
 * Serves a FakeSlack over HTTP: the Web API at /api/<method>, response URLs at
 * /response/<id> and file upload URLs at /upload/<id>, so a separate Tandem
 * process can use it through SLACK_API_URL.
 */
export function createFakeSlackServer(slack: () => FakeSlack): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      const path = new URL(req.url ?? '/', 'http://slack.local').pathname;
      let answer: WebApiAnswer;
      const api = /^\/api\/([\w.]+)$/.exec(path);
      const response = /^\/response\/([\w-]+)$/.exec(path);
      const upload = /^\/upload\/([\w-]+)$/.exec(path);
      try {
        if (req.method === 'POST' && upload) {
          answer = slack().handleUpload(upload[1]!, await uploadedBytes(req.headers['content-type'] ?? null, bytes));
        } else if (req.method === 'POST' && api) {
          answer = slack().handle(api[1]!, parseWebApiBody(req.headers['content-type'] ?? null, raw), req.headers.authorization);
        } else if (req.method === 'POST' && response) {
          answer = slack().handleResponseUrl(response[1]!, raw ? JSON.parse(raw) : {});
        } else {
          answer = { status: 404, headers: {}, body: { ok: false, error: 'unknown_method' } };
        }
      } catch {
        answer = { status: 400, headers: {}, body: { ok: false, error: 'invalid_request' } };
      }
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      const json = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
      res.end(json);
    });
  });
}
