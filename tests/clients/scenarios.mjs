// The client code under comparison: each scenario is one thing an application does with a real client library. It runs
// unchanged against a target ({ baseURL, model }) and returns what the application sees (normalised only where the
// values are per-request by nature: ids and timestamps).
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, generateObject, tool, stepCountIs } from 'ai';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';

const Person = z.object({ name: z.string(), age: z.number() });
const weatherParams = z.object({ city: z.string() });

const openai = t => new OpenAI({ baseURL: t.baseURL, apiKey: 'sk-test', maxRetries: 0 });
const aisdk = t => createOpenAI({ baseURL: t.baseURL, apiKey: 'sk-test' }).chat(t.model);
const langchain = (t, extra = {}) => new ChatOpenAI({ model: t.model, apiKey: 'sk-test', maxRetries: 0, configuration: { baseURL: t.baseURL }, ...extra });

/** What an application reads from an OpenAI SDK error. */
const sdkError = e => ({ status: e.status, type: e.type, code: e.code, param: e.param, message: e.message, requestId: e.requestID ?? null });

const weatherTool = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true } };

export const scenarios = {
  // ---- the official openai client
  'openai: chat': async t => {
    const { data, request_id } = await openai(t).chat.completions.create({ model: t.model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    return { requestId: request_id, completion: data };
  },
  'openai: stream with usage': async t => {
    const stream = await openai(t).chat.completions.create({ model: t.model, stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream please' }] });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return { chunks };
  },
  'openai: stream without usage': async t => {
    const stream = await openai(t).chat.completions.create({ model: t.model, stream: true, messages: [{ role: 'user', content: 'stream please' }] });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return { chunks };
  },
  'openai: tool call round trip': async t => {
    const c = openai(t);
    const messages = [{ role: 'user', content: 'weather in Paris?' }];
    const first = await c.chat.completions.create({ model: t.model, messages, tools: [weatherTool], parallel_tool_calls: false });
    const call = first.choices[0].message.tool_calls[0];
    messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' });
    const second = await c.chat.completions.create({ model: t.model, messages, tools: [weatherTool] });
    return { first, second };
  },
  'openai: streamed tool call': async t => {
    const stream = openai(t).chat.completions.stream({ model: t.model, messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [weatherTool] });
    const final = await stream.finalChatCompletion();
    return { final };
  },
  'openai: streamed tool call chunks': async t => {
    const stream = await openai(t).chat.completions.create({ model: t.model, stream: true, messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [weatherTool] });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return { chunks };
  },
  'openai: native-only fields (store, service_tier)': async t => {
    const { data, response } = await openai(t).chat.completions.create({ model: t.model, store: true, service_tier: 'auto',
      messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    return { completion: data, dropped: response.headers.get('x-durar-dropped') };
  },
  'openai: parse with a json_schema response format': async t => {
    const r = await openai(t).chat.completions.parse({ model: t.model, messages: [{ role: 'user', content: 'who wrote the first program?' }],
      response_format: zodResponseFormat(Person, 'person') });
    return { parsed: r.choices[0].message.parsed, completion: r };
  },
  'openai: n=2, logprobs, seed, metadata': async t => {
    const r = await openai(t).chat.completions.create({ model: t.model, n: 2, logprobs: true, top_logprobs: 1, seed: 7, metadata: { app: 'compare' },
      logit_bias: { '50256': -100 }, user: 'user-1', messages: [{ role: 'user', content: 'two please' }] });
    return { completion: r };
  },
  'openai: n=2 streamed': async t => {
    const stream = await openai(t).chat.completions.create({ model: t.model, n: 2, stream: true, messages: [{ role: 'user', content: 'two please' }] });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return { chunks };
  },
  'openai: upstream 400 error': async t => {
    try {
      await openai(t).chat.completions.create({ model: t.model, temperature: 1.5, messages: [{ role: 'user', content: 'please fail' }] });
      return { error: null };
    } catch (e) {
      return { error: sdkError(e) };
    }
  },
  'openai: upstream 400 error on a stream': async t => {
    try {
      const s = await openai(t).chat.completions.create({ model: t.model, stream: true, messages: [{ role: 'user', content: 'please fail' }] });
      for await (const _ of s) { /* drain */ }
      return { error: null };
    } catch (e) {
      return { error: sdkError(e) };
    }
  },

  // ---- the Vercel AI SDK (chat-completions provider)
  'ai-sdk: generateText': async t => {
    const r = await generateText({ model: aisdk(t), prompt: 'hi' });
    return { text: r.text, finishReason: r.finishReason, usage: r.usage, providerMetadata: r.providerMetadata };
  },
  'ai-sdk: streamText': async t => {
    const r = streamText({ model: aisdk(t), prompt: 'stream please' });
    const parts = [];
    for await (const p of r.fullStream) parts.push(p);
    return { text: await r.text, finishReason: await r.finishReason, usage: await r.usage, parts: parts.map(p => p.type) };
  },
  'ai-sdk: tools with two steps': async t => {
    const r = await generateText({ model: aisdk(t), prompt: 'weather in Paris?', stopWhen: stepCountIs(2),
      tools: { get_weather: tool({ description: 'Weather in a city', inputSchema: weatherParams, execute: async ({ city }) => `sunny in ${city}` }) } });
    return { text: r.text, steps: r.steps.map(s => ({ finishReason: s.finishReason, toolCalls: s.toolCalls.map(c => ({ name: c.toolName, input: c.input })),
      content: s.content.map(c => c.type) })) };
  },
  'ai-sdk: streamed tool call': async t => {
    const r = streamText({ model: aisdk(t), prompt: 'weather in Paris?',
      tools: { get_weather: tool({ description: 'Weather in a city', inputSchema: weatherParams }) } });
    const parts = [];
    for await (const p of r.fullStream) parts.push(p.type);
    return { parts, toolCalls: (await r.toolCalls).map(c => ({ name: c.toolName, input: c.input })), content: (await r.content).map(c => c.type) };
  },
  'ai-sdk: generateObject': async t => {
    const r = await generateObject({ model: aisdk(t), schema: Person, prompt: 'who wrote the first program?' });
    return { object: r.object, finishReason: r.finishReason };
  },
  'ai-sdk: upstream 400 error': async t => {
    try {
      await generateText({ model: aisdk(t), prompt: 'please fail', maxRetries: 0 });
      return { error: null };
    } catch (e) {
      return { error: { name: e.name, statusCode: e.statusCode, message: e.message, isRetryable: e.isRetryable } };
    }
  },

  // ---- LangChain JS
  'langchain: invoke': async t => {
    const r = await langchain(t).invoke('hi');
    return { content: r.content, usage: r.usage_metadata, finish: r.response_metadata.finish_reason, fingerprint: r.response_metadata.system_fingerprint };
  },
  'langchain: stream': async t => {
    let text = '', usage = null;
    for await (const c of await langchain(t, { streamUsage: true }).stream('stream please')) {
      text += c.content;
      if (c.usage_metadata) usage = c.usage_metadata;
    }
    return { text, usage };
  },
  'langchain: bindTools': async t => {
    const r = await langchain(t).bindTools([weatherTool]).invoke('weather in Paris?');
    return { toolCalls: r.tool_calls.map(c => ({ name: c.name, args: c.args })), content: r.content };
  },
  'langchain: withStructuredOutput jsonSchema': async t => ({ object: await langchain(t).withStructuredOutput(Person, { method: 'jsonSchema' }).invoke('who?') }),
  'langchain: withStructuredOutput jsonMode': async t => ({ object: await langchain(t).withStructuredOutput(Person, { method: 'jsonMode' }).invoke('who? answer in JSON') }),
  'langchain: withStructuredOutput functionCalling': async t => ({ object: await langchain(t).withStructuredOutput(Person, { method: 'functionCalling' }).invoke('who?') }),
};
