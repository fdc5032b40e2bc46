import type { TSchema } from 'typebox';
import type { WsMethods } from '../gateway/ws-method.js';
import { FrameType } from '../realtime/frame.js';
import type { PushTable, ServerPushMap } from '../realtime/server-push.js';

type Json = Record<string, unknown>;

/** A schema as plain JSON (TypeBox schemas are JSON Schema already; this drops nothing but functions). */
const plain = (schema: TSchema): Json => JSON.parse(JSON.stringify(schema)) as Json;

const ref = (path: string) => ({ $ref: path });
const CHANNEL = ref('#/channels/socket');
const message = (name: string) => ref(`#/channels/socket/messages/${name}`);

/** The frame `{frameType, id, method, formId?, data}` around one payload. */
function frame(
  frameTypes: readonly number[],
  method: string | undefined,
  data: Json,
  extra: Json = {},
): Json {
  return {
    type: 'object',
    // An error frame carries the request's id and method only when they could be read.
    required: method ? ['frameType', 'id', 'method', 'data'] : ['frameType', 'data'],
    properties: {
      frameType: frameTypes.length === 1 ? { const: frameTypes[0] } : { enum: frameTypes },
      id: {
        type: 'string',
        description:
          'chosen by the client for a request (its answer or error carries it back); the server’s own for a push (de-duplicate by it)',
      },
      method: method ? { const: method } : { type: 'string' },
      ...extra,
      data,
    },
  };
}

const ANSWER_DATA = {
  description: 'the method’s result; its fields are listed in docs/websocket.md and docs/api.md',
};
const ERROR_DATA = {
  type: 'object',
  required: ['code', 'msg'],
  properties: {
    code: { type: 'integer', description: 'a code of docs/errors.md' },
    msg: { type: 'string' },
  },
};

/**
 * The WebSocket protocol as an AsyncAPI 3 document, built from what the server
 * runs: every method a client may call (its `data` schema as validated) with its
 * answer and error frames, and every push of the push map with its payload
 * schema. Served at /docs/asyncapi.json beside the OpenAPI document.
 */
export function asyncApiDocument(input: {
  methods: WsMethods;
  pushes: PushTable<ServerPushMap>;
}): Json {
  const messages: Json = {};
  const operations: Json = {};
  for (const [method, handler] of Object.entries(input.methods).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    messages[`request.${method}`] = {
      name: method,
      title: `${method} request`,
      summary: `frameType 0 asks for an answer; frameType 3 asks for none`,
      payload: frame([FrameType.data, FrameType.noAck], method, plain(handler.schema as TSchema)),
    };
    messages[`answer.${method}`] = {
      name: method,
      title: `${method} answer`,
      payload: frame([FrameType.ack], method, ANSWER_DATA),
    };
    operations[`send.${method}`] = {
      action: 'send',
      channel: CHANNEL,
      messages: [message(`request.${method}`)],
      reply: {
        channel: CHANNEL,
        messages: [message(`answer.${method}`), message('error')],
      },
    };
  }
  for (const [method, push] of Object.entries(input.pushes).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    messages[`push.${method}`] = {
      name: method,
      title: `${method} push`,
      summary: `Sent to ${push.to}.`,
      payload: frame([FrameType.data], method, plain(push.data), {
        formId: { type: 'string', description: 'the sender or reader, where the push has one' },
      }),
    };
    operations[`receive.${method}`] = {
      action: 'receive',
      channel: CHANNEL,
      messages: [message(`push.${method}`)],
    };
  }
  messages.error = {
    name: 'error',
    title: 'error frame',
    summary: 'The answer to a request that failed (frameType 9); the socket stays open.',
    payload: frame([FrameType.error], undefined, ERROR_DATA),
  };
  messages.ping = {
    name: 'ping',
    title: 'ping',
    summary: 'Either side may send it; the other answers with the same frame.',
    payload: {
      type: 'object',
      required: ['frameType'],
      properties: { frameType: { const: FrameType.ping } },
    },
  };
  operations.ping = {
    action: 'send',
    channel: CHANNEL,
    messages: [message('ping')],
    reply: { channel: CHANNEL, messages: [message('ping')] },
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'easy-chat WebSocket',
      version: '1',
      description:
        'One socket per device at /ws (token in the Authorization header, the `token` query ' +
        'parameter or the Sec-WebSocket-Protocol header). Every frame is a JSON text message ' +
        '{frameType, id, ackSeq?, method?, formId?, data?}: 0 data, 1 ping, 2 answer, 3 request ' +
        'without answer, 9 error. Details: docs/websocket.md. The HTTP API is at /docs/json.',
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    channels: {
      socket: {
        address: '/ws',
        title: 'the chat socket',
        messages: Object.fromEntries(
          Object.keys(messages).map((name) => [name, ref(`#/components/messages/${name}`)]),
        ),
      },
    },
    operations,
    components: { messages },
  };
}
