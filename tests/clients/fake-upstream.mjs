// A deterministic OpenAI chat-completions upstream for the client comparison (compare.mjs). It answers by what the request
// asks for, in OpenAI's exact wire shapes (JSON and SSE), so that a client talking to it directly and the same client
// talking to it through the gateway can be compared answer for answer. Every request body it receives is recorded.
import http from 'node:http';

const CREATED = 1700000000;

/** The person every structured-output request gets (it fits the scenarios' schema). */
export const PERSON = { name: 'Ada Lovelace', age: 36 };

/** Starts the fake on 127.0.0.1 (a free port); resolves to { url, requests, close }. */
export function startFakeUpstream() {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Unknown route ${req.method} ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } }));
      return;
    }
    const body = JSON.parse(raw);
    requests.push(body);
    const headers = {
      'x-request-id': 'req_fake_upstream',
      'openai-processing-ms': '42',
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': '9999',
    };
    const last = body.messages.at(-1);
    const lastText = typeof last.content === 'string' ? last.content : (last.content ?? []).map(p => p.text ?? '').join('');
    if (lastText.includes('please fail')) {
      res.writeHead(400, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: "Invalid 'temperature': decimal above maximum value.", type: 'invalid_request_error', param: 'temperature', code: 'decimal_above_max_value' } }));
      return;
    }
    const choices = [];
    for (let i = 0; i < (body.n ?? 1); i++) choices.push(answer(body, last, lastText, i));
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 3, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } };
    if (!body.stream) {
      res.writeHead(200, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion', created: CREATED, model: body.model,
        choices: choices.map((c, index) => ({ index, message: c.message, logprobs: c.logprobs ?? null, finish_reason: c.finish })),
        usage, service_tier: 'default', system_fingerprint: 'fp_fake' }));
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const withUsage = body.stream_options?.include_usage === true;
    const send = (choicesPart, extra = {}) => res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: CREATED,
      model: body.model, service_tier: 'default', system_fingerprint: 'fp_fake', choices: choicesPart, ...(withUsage ? { usage: null } : {}), ...extra })}\n\n`);
    choices.forEach((c, index) => {
      const m = c.message;
      if (m.tool_calls) {
        send([{ index, delta: { role: 'assistant', content: null, tool_calls: m.tool_calls.map((t, k) => ({ index: k, id: t.id, type: 'function', function: { name: t.function.name, arguments: '' } })), refusal: null }, logprobs: null, finish_reason: null }]);
        m.tool_calls.forEach((t, k) => {
          const a = t.function.arguments, half = Math.floor(a.length / 2);
          for (const piece of [a.slice(0, half), a.slice(half)])
            send([{ index, delta: { tool_calls: [{ index: k, function: { arguments: piece } }] }, logprobs: null, finish_reason: null }]);
        });
      } else {
        send([{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
        const words = m.content.match(/\S+\s*/g) ?? [''];
        words.forEach((w, k) => send([{ index, delta: { content: w },
          logprobs: c.logprobs ? { content: [c.logprobs.content[k % c.logprobs.content.length]], refusal: null } : null, finish_reason: null }]));
      }
      send([{ index, delta: {}, logprobs: null, finish_reason: c.finish }]);
    });
    if (withUsage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: CREATED, model: body.model,
      service_tier: 'default', system_fingerprint: 'fp_fake', choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    close: () => new Promise(r => { server.closeAllConnections(); server.close(r); }),
  })));
}

/** One choice: a tool call when tools are offered and none was answered yet, JSON for a response format, text otherwise. */
function answer(body, last, lastText, i) {
  if (body.tools?.length && last.role !== 'tool' && body.tool_choice !== 'none') {
    const fn = body.tools[0].function;
    return { finish: 'tool_calls', message: { role: 'assistant', content: null, refusal: null, annotations: [],
      tool_calls: [{ id: `call_fake_${i}`, type: 'function', function: { name: fn.name, arguments: JSON.stringify(fn.name === 'get_weather' ? { city: 'Paris' } : PERSON) } }] } };
  }
  if (last.role === 'tool') return { finish: 'stop', message: { role: 'assistant', content: `The tool said: ${last.content}`, refusal: null, annotations: [] } };
  if (body.response_format && body.response_format.type !== 'text')
    return { finish: 'stop', message: { role: 'assistant', content: JSON.stringify(PERSON), refusal: null, annotations: [] } };
  const content = i === 0 ? `Hello there, you said: ${lastText}` : `Second choice ${i}: ${lastText}`;
  const logprobs = body.logprobs ? { content: [
    { token: 'Hello', logprob: -0.25, bytes: [72, 101, 108, 108, 111], top_logprobs: (body.top_logprobs ?? 0) > 0 ? [{ token: 'Hello', logprob: -0.25, bytes: [72, 101, 108, 108, 111] }] : [] },
  ], refusal: null } : undefined;
  return { finish: 'stop', logprobs, message: { role: 'assistant', content, refusal: null, annotations: [] } };
}
