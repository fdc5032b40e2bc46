import { defineErrors } from '../../errors/app-error.js';

/** Social module errors (3xxxxx): friends 3000xx, groups 3001xx, block list 3002xx. */
export const SocialErrors = defineErrors({
  selfFriendRequest: {
    code: 300001,
    status: 400,
    message: 'cannot send a friend request to yourself',
  },
  targetUserNotFound: { code: 300002, status: 404, message: 'user not found' },
  alreadyFriends: { code: 300003, status: 409, message: 'already friends' },
  friendRequestNotFound: { code: 300004, status: 404, message: 'friend request not found' },
  notFriendRequestAddressee: {
    code: 300005,
    status: 403,
    message: 'only the addressee can accept or refuse this request',
  },
  notFriendRequestSender: {
    code: 300006,
    status: 403,
    message: 'only the sender can cancel this request',
  },
  requestAlreadyHandled: { code: 300007, status: 409, message: 'request was already handled' },
  notFriends: { code: 300008, status: 404, message: 'not friends' },

  groupNotFound: { code: 300101, status: 404, message: 'group not found' },
  notGroupMember: { code: 300102, status: 403, message: 'you are not a member of this group' },
  notGroupManager: {
    code: 300103,
    status: 403,
    message: 'only the group creator or managers can do this',
  },
  notGroupCreator: { code: 300104, status: 403, message: 'only the group creator can do this' },
  groupRequestNotFound: { code: 300105, status: 404, message: 'group request not found' },
  notGroupRequestParty: {
    code: 300106,
    status: 403,
    message: 'only the applicant or the inviter can cancel this request',
  },
  groupFull: { code: 300107, status: 409, message: 'group has reached its member limit' },
  creatorCannotQuit: {
    code: 300108,
    status: 409,
    message: 'the creator cannot quit; transfer ownership or dismiss the group',
  },
  memberNotFound: { code: 300109, status: 404, message: 'user is not a member of this group' },
  cannotRemoveMember: {
    code: 300110,
    status: 403,
    message: 'managers can remove ordinary members only; nobody removes the creator',
  },
  inviteeRequired: { code: 300111, status: 400, message: 'reqId is required to invite a user' },
  targetIsSelf: {
    code: 300112,
    status: 400,
    message: 'this action needs another user (use quit to leave a group)',
  },
  cannotMuteMember: {
    code: 300113,
    status: 403,
    message: 'managers can mute ordinary members only; nobody mutes the creator',
  },

  cannotBlockSelf: { code: 300201, status: 400, message: 'you cannot block yourself' },
  // Deliberately vague: the refused user learns no more than that this did not happen.
  blockedByUser: {
    code: 300202,
    status: 403,
    message: 'this user does not accept requests from you',
  },
  notBlocked: { code: 300203, status: 404, message: 'this user is not on your block list' },
});
