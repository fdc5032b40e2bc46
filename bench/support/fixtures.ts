/** Users, friendships and groups created over the real HTTP API, in parallel batches. */

export interface BenchUser {
  id: string;
  token: string;
}

const json = { 'content-type': 'application/json' };

async function call<T>(url: string, method: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...(body ? json : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const parsed = (await res.json()) as { code: number; data: T; msg: string };
  if (parsed.code !== 200) throw new Error(`${method} ${url}: ${parsed.code} ${parsed.msg}`);
  return parsed.data;
}

async function inBatches<T, R>(
  items: T[],
  size: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return out;
}

let phoneCounter = 0;

/** The user id an access token is for (its `sub` claim): no request to ask it. */
function userIdOf(token: string): string {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    sub: string;
  };
  return claims.sub;
}

export async function registerUsers(
  base: string,
  count: number,
  onProgress?: (n: number) => void,
): Promise<BenchUser[]> {
  const prefix = String(Date.now()).slice(-6);
  let done = 0;
  return inBatches(
    Array.from({ length: count }, (_, i) => i),
    50,
    async () => {
      phoneCounter += 1;
      const phone = `1${prefix}${String(phoneCounter).padStart(4, '0')}`.slice(0, 15);
      const { token } = await call<{ token: string }>(`${base}/v1/user/register`, 'POST', {
        phone,
        password: 'bench-password',
        nickname: `b${phoneCounter}`,
      });
      done += 1;
      if (done % 1000 === 0) onProgress?.(done);
      return { id: userIdOf(token), token };
    },
  );
}

export async function befriendPairs(
  base: string,
  pairs: Array<[BenchUser, BenchUser]>,
): Promise<void> {
  await inBatches(pairs, 25, async ([a, b]) => {
    const { id } = await call<{ id: string }>(
      `${base}/v1/social/friend/putIn`,
      'POST',
      { userId: b.id },
      a.token,
    );
    await call(
      `${base}/v1/social/friend/putIn`,
      'PUT',
      { friendReqId: id, handleResult: 2 },
      b.token,
    );
  });
}

export async function createGroupOf(
  base: string,
  owner: BenchUser,
  members: BenchUser[],
  onProgress?: (n: number) => void,
): Promise<string> {
  const { id } = await call<{ id: string }>(
    `${base}/v1/social/group`,
    'POST',
    { name: 'bench' },
    owner.token,
  );
  let done = 0;
  await inBatches(members, 25, async (m) => {
    await call(`${base}/v1/social/group/putIn`, 'POST', { groupId: id, joinSource: 2 }, m.token);
    done += 1;
    if (done % 1000 === 0) onProgress?.(done);
  });
  return id;
}
