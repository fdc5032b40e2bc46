import { Type, type TSchema } from 'typebox';
import { FrameType, writeFrame } from './frame.js';
import { newId } from '../shared/ids.js';

/**
 * Every push the server sends, by method, with the type of its `data`. The
 * realtime layer declares its own push here; each module adds its pushes by
 * augmenting this interface in its `<module>.pushes.ts`
 *
 * ```ts
 * declare module '../../realtime/server-push.js' {
 *   interface ServerPushMap extends ImPushMap {}
 * }
 * ```
 *
 * so `PushDelivery` accepts only known pushes with the right data, while this
 * layer imports no module. The run-time list of push methods (the methods a
 * client may not send) is joined in src/catalogue/server-pushes.ts, which the
 * compiler holds to this map; the SDK's copy is held to it by the contract test.
 */
export interface ServerPushMap {
  /**
   * Pushes to this client may have been missed (routing was lost for a while): it
   * should sync every conversation it follows and refresh the conversation list.
   */
  'session.resync': Record<string, never>;
}

export type PushMethod = keyof ServerPushMap;

/**
 * One push before encoding. `id` is the frame id clients de-duplicate by (a new
 * id unless given: social pushes reuse their event's id); `formId` names the
 * sender where the push has one (chat messages and receipts); `dataJson`, when
 * given, is the JSON of `data`, spliced into the frame instead of encoding `data`.
 */
export type ServerPush = {
  [K in PushMethod]: {
    method: K;
    data: ServerPushMap[K];
    id?: string;
    formId?: string;
    dataJson?: string;
  };
}[PushMethod];

/** The frame of a push, serialized once for every socket it goes to. */
export function encodePush(push: ServerPush): string {
  const { dataJson } = push;
  return writeFrame(
    FrameType.data,
    push.id ?? newId(),
    push.method,
    push.formId,
    // `data` is not read when its JSON is given (a message push makes it only if read).
    dataJson === undefined ? push.data : undefined,
    dataJson,
  );
}

/**
 * How a module lists its pushes for the catalogue (server-only methods, docs):
 * every method of its part of the map, with whom it goes to.
 */
export type PushTable<M> = {
  readonly [K in keyof M]: {
    readonly to: string;
    /** Clients send this method too (the server relays it): not server-only. */
    readonly alsoClientMethod?: boolean;
    /**
     * The schema of `data`, for the AsyncAPI document. The map's type is what the
     * compiler checks; the AsyncAPI test checks real pushes against this schema.
     */
    readonly data: TSchema;
  };
};

/** The realtime layer's own pushes. */
export const RealtimePushes: PushTable<Pick<ServerPushMap, 'session.resync'>> = {
  'session.resync': {
    to: 'every device of a user whose pushes could not be routed for a while, once routing works again',
    data: Type.Object({}),
  },
};
