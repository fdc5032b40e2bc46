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
  // 4001xx: refusals decided by the other side (block list, group mutes).
  blockedByRecipient: {
    code: 400101,
    status: 403,
    message: 'this user does not accept messages from you',
  },
});
