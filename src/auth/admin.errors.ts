import { defineErrors } from '../errors/app-error.js';

/** The admin credential's answers (codes of the event range, where the admin API began). */
export const AdminErrors = defineErrors({
  adminForbidden: { code: 500006, status: 403, message: 'admin credential required' },
  adminDisabled: { code: 500009, status: 404, message: 'the admin API is not enabled' },
  noticeTargetInvalid: {
    code: 500012,
    status: 400,
    message: 'give exactly one of userIds or groupId',
  },
});
