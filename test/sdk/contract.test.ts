/**
 * The SDK declares its own wire types and route table (it must not depend on the
 * server). This file ties them to the server: at type level (checked by
 * `npm run check`, since tsc compiles the tests) every SDK type must equal the
 * `Static` type of the server's TypeBox schema, and at run time the SDK's route
 * table must equal the routes of the served OpenAPI document.
 */
import type * as sdk from '@easy-chat/sdk';
import { PUSH_METHODS, ROUTES } from '@easy-chat/sdk';
import type { Static, TSchema } from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ServerPushes } from '../../src/catalogue/server-pushes.js';
import type { SyncPage } from '../../src/modules/im/history.service.js';
import type { ServerPushMap } from '../../src/realtime/server-push.js';
import type {
  ConversationState,
  Message as ServerMessage,
} from '../../src/modules/im/im.entity.js';
import type * as files from '../../src/modules/files/files.schema.js';
import type * as im from '../../src/modules/im/im.schema.js';
import type { ReadReceipt } from '../../src/modules/im/message-fanout.js';
import type * as push from '../../src/modules/push/push.schema.js';
import type * as blacklist from '../../src/modules/social/blacklist.schema.js';
import type * as friend from '../../src/modules/social/friend.schema.js';
import type * as group from '../../src/modules/social/group.schema.js';
import type * as social from '../../src/modules/social/social.schema.js';
import type * as user from '../../src/modules/user/user.schema.js';
import { suiteApp } from '../support/suite-app.js';

/** The `data` of a success envelope schema. */
type Data<T> = T extends { data: infer D } ? D : never;
type DataOf<S extends TSchema> = Data<Static<S>>;

describe('SDK types equal the server schemas', () => {
  it('user', () => {
    expectTypeOf<sdk.RegisterInput>().toEqualTypeOf<Static<typeof user.RegisterBody>>();
    expectTypeOf<sdk.LoginInput>().toEqualTypeOf<Static<typeof user.LoginBody>>();
    expectTypeOf<sdk.TokenData>().toEqualTypeOf<DataOf<typeof user.TokenResponse>>();
    expectTypeOf<sdk.UserInfo>().toEqualTypeOf<Static<typeof user.UserInfoSchema>>();
    expectTypeOf<sdk.UpdateUserInput>().toEqualTypeOf<Static<typeof user.UpdateUserBody>>();
    expectTypeOf<sdk.FindUsersQuery>().toEqualTypeOf<Static<typeof user.FindUsersQuery>>();
    expectTypeOf<sdk.ChangePasswordInput>().toEqualTypeOf<Static<typeof user.ChangePasswordBody>>();
  });

  it('social', () => {
    expectTypeOf<sdk.FriendRequestInput>().toEqualTypeOf<Static<typeof friend.FriendPutInBody>>();
    expectTypeOf<sdk.FriendRequestAnswer>().toEqualTypeOf<
      DataOf<typeof friend.FriendPutInResponse>
    >();
    expectTypeOf<sdk.HandleFriendRequestInput>().toEqualTypeOf<
      Static<typeof friend.FriendHandleBody>
    >();
    expectTypeOf<sdk.FriendRequest[]>().toEqualTypeOf<
      DataOf<typeof friend.FriendRequestListResponse>['list']
    >();
    expectTypeOf<sdk.Friend[]>().toEqualTypeOf<DataOf<typeof friend.FriendListResponse>['list']>();
    expectTypeOf<sdk.OnlineList>().toEqualTypeOf<DataOf<typeof social.OnlineResponse>>();
    expectTypeOf<sdk.FriendRemarkInput>().toEqualTypeOf<Static<typeof friend.FriendRemarkBody>>();
    expectTypeOf<sdk.BlockedUser[]>().toEqualTypeOf<
      DataOf<typeof blacklist.BlacklistResponse>['list']
    >();
    expectTypeOf<sdk.CreateGroupInput>().toEqualTypeOf<Static<typeof group.CreateGroupBody>>();
    expectTypeOf<sdk.GroupJoinInput>().toEqualTypeOf<Static<typeof group.GroupPutInBody>>();
    expectTypeOf<sdk.GroupJoinAnswer>().toEqualTypeOf<DataOf<typeof group.GroupPutInResponse>>();
    expectTypeOf<sdk.HandleGroupRequestInput>().toEqualTypeOf<
      Static<typeof group.GroupHandleBody>
    >();
    expectTypeOf<sdk.GroupRequest[]>().toEqualTypeOf<
      DataOf<typeof group.GroupRequestListResponse>['list']
    >();
    expectTypeOf<sdk.Group[]>().toEqualTypeOf<DataOf<typeof group.GroupListResponse>['list']>();
    expectTypeOf<sdk.MembersQuery>().toEqualTypeOf<Static<typeof group.MembersQuery>>();
    expectTypeOf<sdk.MembersPage>().toEqualTypeOf<DataOf<typeof group.MemberListResponse>>();
    expectTypeOf<sdk.SetRoleInput>().toEqualTypeOf<Static<typeof group.SetRoleBody>>();
    expectTypeOf<sdk.UpdateGroupInput>().toEqualTypeOf<Static<typeof group.UpdateGroupBody>>();
    expectTypeOf<sdk.MuteMemberInput>().toEqualTypeOf<Static<typeof group.MemberMuteBody>>();
    expectTypeOf<{ mutedUntil: number }>().toEqualTypeOf<DataOf<typeof group.MemberMuteResponse>>();
  });

  it('im over HTTP', () => {
    expectTypeOf<sdk.Message>().toEqualTypeOf<Static<typeof im.MessageSchema>>();
    expectTypeOf<sdk.ChatLogQuery>().toEqualTypeOf<Static<typeof im.ChatLogQuery>>();
    expectTypeOf<sdk.ReadRecords>().toEqualTypeOf<DataOf<typeof im.ReadRecordsResponse>>();
    expectTypeOf<sdk.SetupConversationInput>().toEqualTypeOf<
      Static<typeof im.SetupConversationBody>
    >();
    expectTypeOf<sdk.Conversation>().toEqualTypeOf<Static<typeof im.ConversationViewSchema>>();
    expectTypeOf<sdk.UpdateConversationsInput>().toEqualTypeOf<
      Static<typeof im.UpdateConversationsBody>
    >();
  });

  it('files', () => {
    expectTypeOf<sdk.UploadedFile>().toEqualTypeOf<DataOf<typeof files.FileResponse>>();
    expectTypeOf<sdk.FileLink>().toEqualTypeOf<DataOf<typeof files.FileLinkResponse>>();
    expectTypeOf<sdk.DirectUploadInput>().toEqualTypeOf<Static<typeof files.DirectUploadBody>>();
    expectTypeOf<sdk.DirectUpload>().toEqualTypeOf<DataOf<typeof files.DirectUploadResponse>>();
  });

  it('push devices', () => {
    expectTypeOf<sdk.RegisterPushDeviceInput>().toEqualTypeOf<
      Static<typeof push.RegisterDeviceBody>
    >();
    expectTypeOf<sdk.PushDevice[]>().toEqualTypeOf<
      DataOf<typeof push.DeviceListResponse>['list']
    >();
  });

  it('im over the WebSocket', () => {
    expectTypeOf<sdk.ChatInput>().toEqualTypeOf<Static<typeof im.ChatData>>();
    expectTypeOf<sdk.MarkChatInput>().toEqualTypeOf<Static<typeof im.MarkChatData>>();
    expectTypeOf<sdk.SyncInput>().toEqualTypeOf<Static<typeof im.SyncData>>();
    expectTypeOf<sdk.RevokeInput>().toEqualTypeOf<Static<typeof im.RevokeData>>();
    expectTypeOf<sdk.EditInput>().toEqualTypeOf<Static<typeof im.EditData>>();
    expectTypeOf<sdk.ReactInput>().toEqualTypeOf<Static<typeof im.ReactData>>();
    expectTypeOf<sdk.DeleteMessagesInput>().toEqualTypeOf<Static<typeof im.DeleteMessagesData>>();
    expectTypeOf<sdk.TypingInput>().toEqualTypeOf<Static<typeof im.TypingData>>();
    // Answers and pushes have no schema on the server; they are its domain types.
    expectTypeOf<ServerMessage>().toExtend<sdk.Message>();
    expectTypeOf<SyncPage>().toExtend<sdk.SyncPage>();
    expectTypeOf<ReadReceipt>().toExtend<sdk.ReadReceipt>();
    expectTypeOf<ConversationState>().toEqualTypeOf<sdk.ConversationState>();
  });
});

describe('SDK pushes equal the server push map', () => {
  it('knows every push method the server has, and no other', () => {
    expect([...PUSH_METHODS].sort()).toEqual(Object.keys(ServerPushes).sort());
  });

  it('types each push as the server does', () => {
    type Same<K extends keyof ServerPushMap & keyof sdk.ServerPushMap> = [
      sdk.ServerPushMap[K],
      ServerPushMap[K],
    ];
    expectTypeOf<Same<'friend.request'>[0]>().toEqualTypeOf<Same<'friend.request'>[1]>();
    expectTypeOf<Same<'friend.request.handled'>[0]>().toEqualTypeOf<
      Same<'friend.request.handled'>[1]
    >();
    expectTypeOf<Same<'friend.added'>[0]>().toEqualTypeOf<Same<'friend.added'>[1]>();
    expectTypeOf<Same<'friend.deleted'>[0]>().toEqualTypeOf<Same<'friend.deleted'>[1]>();
    expectTypeOf<Same<'group.request'>[0]>().toEqualTypeOf<Same<'group.request'>[1]>();
    expectTypeOf<Same<'group.request.handled'>[0]>().toEqualTypeOf<
      Same<'group.request.handled'>[1]
    >();
    expectTypeOf<Same<'group.member.joined'>[0]>().toEqualTypeOf<Same<'group.member.joined'>[1]>();
    expectTypeOf<Same<'group.member.left'>[0]>().toEqualTypeOf<Same<'group.member.left'>[1]>();
    expectTypeOf<Same<'group.member.removed'>[0]>().toEqualTypeOf<
      Same<'group.member.removed'>[1]
    >();
    expectTypeOf<Same<'group.dismissed'>[0]>().toEqualTypeOf<Same<'group.dismissed'>[1]>();
    expectTypeOf<Same<'group.updated'>[0]>().toEqualTypeOf<Same<'group.updated'>[1]>();
    expectTypeOf<Same<'group.muted'>[0]>().toEqualTypeOf<Same<'group.muted'>[1]>();
    expectTypeOf<Same<'group.member.muted'>[0]>().toEqualTypeOf<Same<'group.member.muted'>[1]>();
    expectTypeOf<Same<'user.presence'>[0]>().toEqualTypeOf<Same<'user.presence'>[1]>();
    expectTypeOf<Same<'conversation.updated'>[0]>().toEqualTypeOf<
      Same<'conversation.updated'>[1]
    >();
    expectTypeOf<Same<'conversation.typing'>[0]>().toEqualTypeOf<Same<'conversation.typing'>[1]>();
    expectTypeOf<Same<'session.resync'>[0]>().toEqualTypeOf<Same<'session.resync'>[1]>();
    // The server's chat push carries its own Message (a superset, as above).
    expectTypeOf<ServerPushMap['push']>().toExtend<sdk.ServerPushMap['push']>();
  });
});

describe('SDK routes equal the served OpenAPI document', () => {
  const { t } = suiteApp();

  it('every user, social, im, files and push route, both ways', async () => {
    const res = await fetch(`${t.url}/docs/json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(doc.paths)
      .filter(([path]) => /^\/v1\/(user|social|im|files|push)(\/|$)/.test(path))
      .flatMap(([path, methods]) =>
        Object.keys(methods)
          .filter((m) => ['get', 'post', 'put', 'delete'].includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    const sdkRoutes = Object.values(ROUTES)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(sdkRoutes).toEqual(served);

    // Routes without a bearer requirement in the document are the SDK's unauthenticated ones.
    // ... and the SDK's method names are the document's operationIds.
    for (const [name, route] of Object.entries(ROUTES)) {
      const op = doc.paths[route.path]![route.method.toLowerCase()] as {
        security?: unknown[];
        operationId?: string;
      };
      expect(Boolean(op.security?.length), `${route.method} ${route.path}`).toBe(route.auth);
      expect(op.operationId, `${route.method} ${route.path}`).toBe(name);
    }
  });
});
