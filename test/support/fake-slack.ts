import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { FakeSlack, parseWebApiBody, uploadedBytes } from '../../src/fake-slack';

export const slackOrigin = 'https://slack.test';

/**
 * Intercepts Slack Web API and response_url calls with msw and answers them from a
 * FakeSlack workspace. Everything else (requests to Tandem itself) passes through.
 */
export function interceptSlack(current: () => FakeSlack) {
  const server = setupServer(
    http.post(`${slackOrigin}/api/:method`, async ({ request, params }) => {
      const args = parseWebApiBody(request.headers.get('content-type'), await request.text());
      const answer = current().handle(String(params.method), args, request.headers.get('authorization') ?? undefined);
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      return HttpResponse.json(answer.body, { status: answer.status, headers: answer.headers });
    }),
    http.post(`${slackOrigin}/upload/:id`, async ({ request, params }) => {
      const bytes = await uploadedBytes(request.headers.get('content-type'), Buffer.from(await request.arrayBuffer()));
      const answer = current().handleUpload(String(params.id), bytes);
      return HttpResponse.json(answer.body, { status: answer.status });
    }),
    http.post(`${slackOrigin}/response/:id`, async ({ request, params }) => {
      const body = (await request.json()) as Record<string, unknown>;
      const answer = current().handleResponseUrl(String(params.id), body);
      return HttpResponse.json(answer.body, { status: answer.status });
    }),
  );
  server.listen({ onUnhandledRequest: 'bypass' });
  return server;
}
