import { defineErrors } from '../../errors/app-error.js';

/** User module errors (2xxxxx). */
export const UserErrors = defineErrors({
  phoneTaken: { code: 200001, status: 409, message: 'phone number is already registered' },
  invalidCredentials: { code: 200002, status: 401, message: 'phone or password is incorrect' },
  userNotFound: { code: 200003, status: 404, message: 'user not found' },
  loginRateLimited: { code: 200004, status: 429, message: 'too many login attempts, try later' },
  userDisabled: { code: 200005, status: 403, message: 'this account is disabled' },
  searchFilterRequired: {
    code: 200006,
    status: 400,
    message: 'give at least one of ids, phone or name',
  },
  registerRateLimited: {
    code: 200007,
    status: 429,
    message: 'too many registrations from this address, try later',
  },
  // 20001x: the account's own life cycle (password, deletion).
  passwordIncorrect: { code: 200011, status: 403, message: 'password is incorrect' },
  passwordRateLimited: {
    code: 200012,
    status: 429,
    message: 'too many password attempts, try later',
  },
  // Password reset by code: one answer for a wrong, expired, used or unknown code.
  resetCodeInvalid: {
    code: 200013,
    status: 400,
    message: 'the reset code is wrong or has expired',
  },
  resetRateLimited: {
    code: 200014,
    status: 429,
    message: 'too many password reset requests, try later',
  },
});
