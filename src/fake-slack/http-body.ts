import type { Json } from './types';

/** Reads a Web API request body the way Slack does: form fields (JSON-encoded where structured) or JSON. */
export function parseWebApiBody(contentType: string | null, raw: string): Json {
  if (contentType?.includes('application/json')) return raw ? (JSON.parse(raw) as Json) : {};
  const params = new URLSearchParams(raw);
  const args: Json = {};
  for (const [key, value] of params) {
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The file in an upload: the first file part of a multipart body (what the Web API client sends), or the raw body. */
export async function uploadedBytes(contentType: string | null, raw: Buffer): Promise<Buffer> {
  if (!contentType?.includes('multipart/form-data')) return raw;
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  return raw;
}
