import type { HttpClient } from './http-client.js';

let sequence = 0;

/** A `users` row for tests that write the table directly (storage-level tests). */
export function userRow(id: string, phone: string) {
  return {
    id,
    phone,
    nickname: 'n',
    passwordHash: 'h',
    sex: 0,
    avatar: '',
    status: 0,
    createdAt: 1,
    updatedAt: 1,
  };
}

/** A phone number unique across parallel test processes. */
export function uniquePhone(): string {
  sequence += 1;
  const tail = `${process.pid % 10000}`.padStart(4, '0') + `${sequence}`.padStart(6, '0');
  return `1${tail}`.slice(0, 11).padEnd(11, '0');
}

export interface RegisteredUser {
  id: string;
  phone: string;
  password: string;
  nickname: string;
  token: string;
  client: HttpClient;
}

/** Registers a user over HTTP and returns a client that carries its token. */
export async function createUser(
  client: HttpClient,
  overrides: Partial<{
    phone: string;
    password: string;
    nickname: string;
    sex: number;
    avatar: string;
  }> = {},
): Promise<RegisteredUser> {
  const input = {
    phone: overrides.phone ?? uniquePhone(),
    password: overrides.password ?? 'correct-horse-1',
    nickname: overrides.nickname ?? `user${sequence}`,
    ...(overrides.sex !== undefined ? { sex: overrides.sex } : {}),
    ...(overrides.avatar !== undefined ? { avatar: overrides.avatar } : {}),
  };
  const res = await client.post('/v1/user/register', input);
  if (res.status !== 200)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  const token = res.body.data.token as string;
  const authed = client.withToken(token);
  const me = await authed.get('/v1/user/user');
  return { id: me.body.data.info.id, ...input, token, client: authed };
}
