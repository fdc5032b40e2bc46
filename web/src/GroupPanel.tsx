import { RoleLevel, type Group, type GroupMember } from '@easy-chat/sdk';
import { useState, type FormEvent } from 'react';
import { Avatar } from './Avatar.js';
import { timeOf, useAppState } from './hooks.js';
import { displayName, store } from './store/index.js';

const ROLE_LABEL: Record<number, string> = { 1: 'owner', 2: 'manager' };

/** The panel under a group chat's header: its frame, a heading and a Close button. */
function Panel(props: {
  title: string;
  testId: string;
  onClose: () => void;
  children: React.ReactNode;
}) {
  const id = `${props.testId}-heading`;
  return (
    <section className="group-panel" data-testid={props.testId} aria-labelledby={id}>
      <h3 id={id}>
        {props.title}
        <button className="link" onClick={props.onClose} data-testid="close-panel">
          Close
        </button>
      </h3>
      {props.children}
    </section>
  );
}

/** Picking friends to invite (a filter over my friends who are not members yet). */
export function InvitePanel({ groupId, onClose }: { groupId: string; onClose: () => void }) {
  const state = useAppState();
  const [filter, setFilter] = useState('');
  const members = new Set((state.members[groupId] ?? []).map((m) => m.userId));
  const q = filter.trim().toLowerCase();
  const candidates = state.friends
    .filter((f) => !members.has(f.friendUid))
    .filter(
      (f) => !q || f.nickname.toLowerCase().includes(q) || f.remark.toLowerCase().includes(q),
    );

  async function invite(userId: string, name: string) {
    let joined = false;
    const ok = await store.act(async () => {
      joined = await store.groupAdmin.invite(groupId, userId);
    });
    if (ok) {
      store.dismissNotice();
      await store.act(
        async () => undefined,
        joined ? `${name} joined the group` : `Invited ${name}: a manager approves the request`,
      );
    }
  }

  return (
    <Panel title="Invite friends" testId="invite-panel" onClose={onClose}>
      <input
        type="search"
        aria-label="Find a friend to invite"
        placeholder="Find a friend by name"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
        data-testid="invite-filter"
        autoFocus
      />
      {candidates.length === 0 && (
        <p className="hint" data-testid="no-invitees">
          {state.friends.length === 0
            ? 'No friends yet: add some in Contacts first.'
            : q
              ? 'No friend by that name outside this group.'
              : 'All your friends are in this group.'}
        </p>
      )}
      <ul className="list">
        {candidates.map((f) => {
          const name = f.remark || f.nickname;
          return (
            <li
              key={f.friendUid}
              className="row static"
              data-testid="invitee"
              data-name={f.nickname}
            >
              <Avatar id={f.friendUid} name={name} src={f.avatar} />
              <span className="row-main">
                <span className="row-title">{name}</span>
                {f.remark && <span className="row-sub">{f.nickname}</span>}
              </span>
              <button
                className="primary"
                aria-label={`Invite ${name}`}
                data-testid="invite-friend"
                onClick={() => void invite(f.friendUid, name)}
              >
                Invite
              </button>
            </li>
          );
        })}
      </ul>
    </Panel>
  );
}

/**
 * The group's info and controls. Its creator and managers edit the name, picture,
 * announcement and approval, mute the group, and mute or remove members (the
 * creator also promotes and demotes managers); everyone else reads the info.
 */
export function GroupSettingsPanel({ group, onClose }: { group: Group; onClose: () => void }) {
  const state = useAppState();
  const me = state.me!.id;
  const members = state.members[group.id] ?? [];
  const myRole = members.find((m) => m.userId === me)?.roleLevel ?? RoleLevel.member;
  const manager = myRole === RoleLevel.creator || myRole === RoleLevel.manager;
  return (
    <Panel title="Group info" testId="group-settings" onClose={onClose}>
      {manager ? <GroupInfoForm group={group} /> : <GroupInfo group={group} />}
      <h3>
        {group.memberCount} member{group.memberCount === 1 ? '' : 's'}
      </h3>
      <ul className="list">
        {members.map((m) => (
          <MemberRow key={m.userId} group={group} member={m} me={me} myRole={myRole} />
        ))}
      </ul>
    </Panel>
  );
}

function GroupInfo({ group }: { group: Group }) {
  return (
    <dl data-testid="group-info">
      <dt>Name</dt>
      <dd>{group.name}</dd>
      <dt>Announcement</dt>
      <dd>{group.notification || 'None'}</dd>
      <dt>Joining</dt>
      <dd>{group.isVerify ? 'needs approval' : 'open to anyone with the id'}</dd>
      <dt>Posting</dt>
      <dd>{group.muted ? 'muted: only the owner and managers post' : 'everyone'}</dd>
      <dt>Group id</dt>
      <dd>
        <code>{group.id}</code>
      </dd>
    </dl>
  );
}

function GroupInfoForm({ group }: { group: Group }) {
  const [name, setName] = useState(group.name);
  const [icon, setIcon] = useState(group.icon);
  const [notification, setNotification] = useState(group.notification);
  const [isVerify, setVerify] = useState(group.isVerify);

  async function submit(event: FormEvent) {
    event.preventDefault();
    // Only what changed: each changed field is one line of the group's notice.
    const changes = {
      ...(name.trim() !== group.name ? { name: name.trim() } : {}),
      ...(icon.trim() !== group.icon ? { icon: icon.trim() } : {}),
      ...(notification.trim() !== group.notification ? { notification: notification.trim() } : {}),
      ...(isVerify !== group.isVerify ? { isVerify } : {}),
    };
    if (Object.keys(changes).length === 0) return;
    await store.act(
      () => store.groupAdmin.update({ groupId: group.id, ...changes }),
      'Group updated',
    );
  }

  return (
    <>
      <form className="stack-form" onSubmit={(e) => void submit(e)}>
        <label>
          Group name
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={64}
            required
            data-testid="group-name-input"
          />
        </label>
        <label>
          Picture address
          <input
            type="url"
            value={icon}
            onChange={(e) => setIcon(e.target.value)}
            maxLength={512}
            placeholder="https://…"
          />
        </label>
        <label>
          Announcement
          <textarea
            value={notification}
            onChange={(e) => setNotification(e.target.value)}
            maxLength={1024}
            rows={2}
            data-testid="announcement-input"
          />
        </label>
        <label className="check">
          <input type="checkbox" checked={isVerify} onChange={(e) => setVerify(e.target.checked)} />{' '}
          Joining needs approval
        </label>
        <button type="submit" className="primary" data-testid="update-group">
          Update group
        </button>
      </form>
      <p className="hint">
        {group.muted
          ? 'The group is muted: only the owner and managers can post.'
          : 'Everyone can post.'}{' '}
        <button
          aria-pressed={group.muted}
          data-testid="mute-group"
          onClick={() =>
            void store.act(
              () => store.groupAdmin.muteGroup(group.id, !group.muted),
              group.muted ? 'The group is unmuted' : 'The group is muted',
            )
          }
        >
          {group.muted ? 'Unmute the group' : 'Mute the group'}
        </button>
      </p>
    </>
  );
}

/** One member: name and role, and what I may do to them (by my role and theirs). */
function MemberRow(props: { group: Group; member: GroupMember; me: string; myRole: number }) {
  const { group, member: m, me, myRole } = props;
  const state = useAppState();
  const [minutes, setMinutes] = useState(10);
  const [confirming, setConfirming] = useState(false);
  const name = m.userId === me ? `${m.nickname} (you)` : displayName(state, m.userId);
  const mutedUntil = state.memberMutes[group.id]?.[m.userId] ?? 0;
  const muted = mutedUntil > Date.now();
  // The server's rules: the creator acts on anyone else, a manager on ordinary members.
  const canModerate =
    m.userId !== me &&
    (myRole === RoleLevel.creator ||
      (myRole === RoleLevel.manager && m.roleLevel === RoleLevel.member));
  const canSetRole = myRole === RoleLevel.creator && m.userId !== me;
  const act = (action: () => Promise<void>, done: string) => void store.act(action, done);

  return (
    <li className="member-row" data-testid="member-row" data-name={m.nickname}>
      <Avatar id={m.userId} name={m.nickname} src={m.avatar} />
      <span className="row-main">
        <span className="row-title">{name}</span>
        <span className="row-sub" data-testid="member-status">
          {[ROLE_LABEL[m.roleLevel], muted ? `muted until ${timeOf(mutedUntil)}` : '']
            .filter(Boolean)
            .join(' · ')}
        </span>
      </span>
      {canSetRole && m.roleLevel !== RoleLevel.creator && (
        <button
          data-testid="toggle-manager"
          aria-label={`${m.roleLevel === RoleLevel.manager ? 'Remove manager role from' : 'Make manager'} ${m.nickname}`}
          onClick={() =>
            act(
              () =>
                store.groupAdmin.setRole({
                  groupId: group.id,
                  userId: m.userId,
                  roleLevel: m.roleLevel === RoleLevel.manager ? 3 : 2,
                }),
              m.roleLevel === RoleLevel.manager
                ? `${m.nickname} is no longer a manager`
                : `${m.nickname} is now a manager`,
            )
          }
        >
          {m.roleLevel === RoleLevel.manager ? 'Remove manager' : 'Make manager'}
        </button>
      )}
      {canModerate &&
        (muted ? (
          <button
            data-testid="unmute-member"
            aria-label={`Unmute ${m.nickname}`}
            onClick={() =>
              act(
                () =>
                  store.groupAdmin.muteMember({ groupId: group.id, userId: m.userId, seconds: 0 }),
                `${m.nickname} can post again`,
              )
            }
          >
            Unmute
          </button>
        ) : (
          <span className="mute-member">
            <input
              type="number"
              min={1}
              max={525600}
              value={minutes}
              onChange={(e) => setMinutes(Number(e.target.value))}
              aria-label={`Minutes to mute ${m.nickname}`}
              data-testid="mute-minutes"
            />{' '}
            <button
              data-testid="mute-member"
              aria-label={`Mute ${m.nickname} for ${minutes} minutes`}
              disabled={!(minutes >= 1 && minutes <= 525600)}
              onClick={() =>
                act(
                  () =>
                    store.groupAdmin.muteMember({
                      groupId: group.id,
                      userId: m.userId,
                      seconds: Math.round(minutes * 60),
                    }),
                  `${m.nickname} is muted for ${minutes} min`,
                )
              }
            >
              Mute
            </button>
          </span>
        ))}
      {canModerate && (
        <button
          className="danger"
          data-testid="kick-member"
          aria-label={confirming ? `Click again to remove ${m.nickname}` : `Remove ${m.nickname}`}
          onClick={() => {
            if (!confirming) {
              setConfirming(true);
              return;
            }
            setConfirming(false);
            act(() => store.groupAdmin.kick(group.id, m.userId), `${m.nickname} was removed`);
          }}
          onBlur={() => setConfirming(false)}
        >
          {confirming ? 'Click again to remove' : 'Remove'}
        </button>
      )}
    </li>
  );
}
