import { defineErrors } from '../../errors/app-error.js';

/** IM module errors (4xxxxx). */
export const ImErrors = defineErrors({
  notFriends: { code: 400001, status: 403, message: 'you can only chat with friends' },
  notGroupMember: { code: 400002, status: 403, message: 'you are not a member of this group' },
  notParticipant: { code: 400003, status: 403, message: 'you are not in this conversation' },
  conversationNotFound: { code: 400004, status: 404, message: 'conversation not found' },
  messageNotFound: { code: 400005, status: 404, message: 'message not found' },
  recipientNotFound: { code: 400006, status: 404, message: 'recipient not found' },
  conversationMismatch: {
    code: 400007,
    status: 400,
    message: 'conversationId does not match chatType and recvId',
  },
  chatWithSelf: { code: 400008, status: 400, message: 'cannot open a single chat with yourself' },
  clientMsgIdReused: {
    code: 400009,
    status: 409,
    message: 'clientMsgId was already used for another conversation',
  },
  groupNotFound: { code: 400011, status: 404, message: 'group not found' },
  tooManyConversations: {
    code: 400010,
    status: 400,
    message: 'too many conversations in one request',
  },

  // Messages that change after they are sent (docs/websocket.md): 4001xx.
  revokeNotAllowed: {
    code: 400101,
    status: 403,
    message: 'only the sender or a group creator or manager can recall this message',
  },
  revokeWindowPassed: {
    code: 400102,
    status: 403,
    message: 'the time to recall this message has passed',
  },
  editNotSender: { code: 400103, status: 403, message: 'only the sender can edit a message' },
  editWindowPassed: {
    code: 400104,
    status: 403,
    message: 'the time to edit this message has passed',
  },
  editNotText: { code: 400105, status: 400, message: 'only text messages can be edited' },
  messageRevoked: { code: 400106, status: 409, message: 'the message was recalled' },
  replyNotInConversation: {
    code: 400107,
    status: 400,
    message: 'replyTo is not a message of this conversation',
  },
  tooManyReactions: {
    code: 400108,
    status: 400,
    message: 'too many reactions on this message (distinct emojis, or yours)',
  },
  mentionNotMember: {
    code: 400109,
    status: 400,
    message: 'atUserIds may only name members of the group',
  },
  atAllNotManager: {
    code: 400110,
    status: 403,
    message: 'only the group creator or managers can mention everyone',
  },
  mentionNotInGroup: { code: 400111, status: 400, message: 'mentions are for group chats only' },
  typingTooFast: { code: 400112, status: 429, message: 'typing notices are sent too often' },

  // Refusals decided by the other side or by the group (block list, group mutes): 4002xx.
  blockedByRecipient: {
    code: 400201,
    status: 403,
    message: 'this user does not accept messages from you',
  },
  groupMuted: {
    code: 400202,
    status: 403,
    message: 'the group is muted: only its creator and managers can post',
  },
  memberMuted: { code: 400203, status: 403, message: 'you are muted in this group' },
});
