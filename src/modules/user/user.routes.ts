import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate, caller } from '../../auth/authenticate.js';
import { errorResponses, ok } from '../../http/envelope.js';
import type { TokenService } from '../../auth/token.service.js';
import type { AccountService } from './account.service.js';
import type { PasswordResetService } from './password-reset.service.js';
import {
  ChangePasswordBody,
  DeleteAccountBody,
  EmptyResponse,
  FindUsersQuery,
  LoginBody,
  RegisterBody,
  ResetCodeBody,
  ResetPasswordBody,
  TokenResponse,
  UpdateUserBody,
  UserInfoResponse,
  UserListResponse,
} from './user.schema.js';
import type { UserService } from './user.service.js';
import { UserErrors } from './user.errors.js';

const tags = ['user'];
const security = [{ bearer: [] }];

/** `/v1/user`: thin edges over UserService. */
export function userRoutes(deps: {
  users: UserService;
  accounts: AccountService;
  passwordReset: PasswordResetService;
  tokens: TokenService;
}): FastifyPluginAsyncTypebox {
  const { users, accounts, passwordReset, tokens } = deps;
  return async (app) => {
    const auth = authenticate(tokens);

    app.post(
      '/register',
      {
        schema: {
          tags,
          summary: 'Create an account and log in',
          operationId: 'register',
          errors: [UserErrors.phoneTaken, UserErrors.registerRateLimited],
          body: RegisterBody,
          response: { 200: TokenResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { token, expire } = await users.register(request.body, request.ip);
        return ok({ token, expire });
      },
    );

    app.post(
      '/login',
      {
        schema: {
          tags,
          summary: 'Log in with phone and password',
          operationId: 'login',
          errors: [
            UserErrors.invalidCredentials,
            UserErrors.userDisabled,
            UserErrors.loginRateLimited,
          ],
          body: LoginBody,
          response: { 200: TokenResponse, ...errorResponses },
        },
      },
      async (request) =>
        ok(await users.login(request.body.phone, request.body.password, request.ip)),
    );

    app.get(
      '/user',
      {
        onRequest: auth,
        schema: {
          tags,
          security,
          summary: 'My profile',
          operationId: 'me',
          errors: [UserErrors.userNotFound],
          response: { 200: UserInfoResponse, ...errorResponses },
        },
      },
      async (request) => ok({ info: await users.getProfile(caller(request).userId) }),
    );

    app.put(
      '/user',
      {
        onRequest: auth,
        schema: {
          tags,
          security,
          summary: 'Update my profile',
          operationId: 'updateMe',
          errors: [UserErrors.userNotFound],
          body: UpdateUserBody,
          response: { 200: UserInfoResponse, ...errorResponses },
        },
      },
      async (request) =>
        ok({ info: await users.updateProfile(caller(request).userId, request.body) }),
    );

    app.get(
      '/users',
      {
        onRequest: auth,
        schema: {
          tags,
          security,
          summary: 'Find users by ids, exact phone or nickname substring',
          operationId: 'findUsers',
          errors: [UserErrors.searchFilterRequired],
          querystring: FindUsersQuery,
          response: { 200: UserListResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { ids, phone, name } = request.query;
        const idList = ids
          ?.split(',')
          .map((id) => id.trim())
          .filter(Boolean);
        const list = await users.find(caller(request).userId, { ids: idList, phone, name });
        return ok({ list });
      },
    );

    app.post(
      '/logout',
      {
        onRequest: auth,
        schema: {
          tags,
          security,
          summary: 'Revoke the token used for this call',
          operationId: 'logout',
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await users.logout(caller(request));
        return ok({});
      },
    );

    app.put(
      '/password',
      {
        onRequest: auth,
        schema: {
          tags,
          security,
          summary: 'Change my password; every other session ends',
          operationId: 'changePassword',
          errors: [UserErrors.passwordIncorrect, UserErrors.passwordRateLimited],
          description:
            'Answers a new token for this client: every token issued before, the one used ' +
            'for this call included, stops working and their sockets are closed.',
          body: ChangePasswordBody,
          response: { 200: TokenResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { oldPassword, newPassword } = request.body;
        return ok(await accounts.changePassword(caller(request), oldPassword, newPassword));
      },
    );

    app.post(
      '/password/resetCode',
      {
        schema: {
          tags,
          summary: 'Send a password reset code by SMS',
          operationId: 'requestResetCode',
          errors: [UserErrors.resetRateLimited],
          description:
            'Answers {} whether or not the phone has an account (nothing tells which); ' +
            'when it has an active one, a six-digit code is sent by SMS (template ' +
            '"password_reset", params code and minutes). A code works once, for ' +
            'user.passwordReset.codeTtlSec, and survives maxAttempts wrong guesses; ' +
            'asking again replaces it. Limited per phone and per address.',
          body: ResetCodeBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await passwordReset.requestCode(request.body.phone, request.ip);
        return ok({});
      },
    );

    app.post(
      '/password/reset',
      {
        schema: {
          tags,
          summary: 'Set a new password with a reset code; every session ends',
          operationId: 'resetPassword',
          errors: [
            UserErrors.resetCodeInvalid,
            UserErrors.userDisabled,
            UserErrors.resetRateLimited,
          ],
          description:
            'Answers a token, as login does: every token issued before stops working and ' +
            'its sockets are closed. A wrong, expired or used code, and a phone without ' +
            'an account, all answer 400 / 200013.',
          body: ResetPasswordBody,
          response: { 200: TokenResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { phone, code, newPassword } = request.body;
        return ok(await passwordReset.reset(phone, code, newPassword, request.ip));
      },
    );

    app.delete(
      '/user',
      {
        onRequest: auth,
        schema: {
          tags,
          security,
          summary: 'Delete my account (confirmed by my password)',
          operationId: 'deleteAccount',
          errors: [UserErrors.passwordIncorrect, UserErrors.passwordRateLimited],
          description:
            'Sessions end, friendships and group memberships end (groups I created pass to ' +
            'the oldest manager, else the oldest member, or are dismissed when empty). My ' +
            'messages stay and are shown as from a deleted user.',
          body: DeleteAccountBody,
          response: { 200: EmptyResponse, ...errorResponses },
        },
      },
      async (request) => {
        await accounts.deleteAccount(caller(request), request.body.password);
        return ok({});
      },
    );
  };
}
