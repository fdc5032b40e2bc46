import { Type, type Static } from 'typebox';
import { EnvelopeOf, EmptyObject } from '../../http/envelope.js';

/** Digits with an optional leading +, 6 to 15 digits (E.164 allows at most 15). */
export const Phone = Type.String({ pattern: '^\\+?[0-9]{6,15}$', description: 'phone number' });
const Password = Type.String({ minLength: 8, maxLength: 128 });
const Nickname = Type.String({ minLength: 1, maxLength: 24, pattern: '\\S' });
const SexValue = Type.Integer({
  minimum: 0,
  maximum: 2,
  description: '0 unknown, 1 male, 2 female',
});
const Avatar = Type.String({ maxLength: 512 });

export const RegisterBody = Type.Object({
  phone: Phone,
  password: Password,
  nickname: Nickname,
  sex: Type.Optional(SexValue),
  avatar: Type.Optional(Avatar),
});
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object({
  phone: Phone,
  // Any length is accepted here so that old, shorter passwords still log in.
  password: Type.String({ minLength: 1, maxLength: 128 }),
});
export type LoginBody = Static<typeof LoginBody>;

export const ChangePasswordBody = Type.Object({
  oldPassword: Type.String({ minLength: 1, maxLength: 128 }),
  newPassword: Password,
});
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const ResetCodeBody = Type.Object({ phone: Phone });

export const ResetPasswordBody = Type.Object({
  phone: Phone,
  code: Type.String({ pattern: '^[0-9]{6}$', description: 'the six digits sent by SMS' }),
  newPassword: Password,
});
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

export const DeleteAccountBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 128, description: 'confirms the deletion' }),
});

export const TokenData = Type.Object({
  token: Type.String(),
  expire: Type.Integer({ description: 'expiry, epoch seconds' }),
});

export const UserInfoSchema = Type.Object({
  id: Type.String(),
  mobile: Type.String({ description: "the caller's own phone, masked for other users" }),
  nickname: Type.String(),
  sex: Type.Integer(),
  avatar: Type.String(),
  remark: Type.Optional(
    Type.String({ description: 'search results: my remark for this user, when a friend' }),
  ),
  deleted: Type.Optional(
    Type.Literal(true, { description: 'the account was deleted (its messages stay)' }),
  ),
});

export const UpdateUserBody = Type.Object({
  nickname: Type.Optional(Nickname),
  sex: Type.Optional(SexValue),
  avatar: Type.Optional(Avatar),
});
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const FindUsersQuery = Type.Object({
  ids: Type.Optional(Type.String({ maxLength: 4000, description: 'comma-separated user ids' })),
  phone: Type.Optional(Phone),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
export type FindUsersQuery = Static<typeof FindUsersQuery>;

export const TokenResponse = EnvelopeOf(TokenData);
export const UserInfoResponse = EnvelopeOf(Type.Object({ info: UserInfoSchema }));
export const UserListResponse = EnvelopeOf(Type.Object({ list: Type.Array(UserInfoSchema) }));
export const EmptyResponse = EnvelopeOf(EmptyObject);
