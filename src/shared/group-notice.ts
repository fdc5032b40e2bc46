/**
 * What a group notice says (DESIGN.md §7): the `content` of an mType 10 message, as
 * JSON. The social module makes them from its membership events; the IM module stores
 * and pushes them. Here, below both, so that they share one definition.
 */
export interface GroupNotice {
  type:
    | 'member.joined'
    | 'member.left'
    | 'member.kicked'
    | 'member.role'
    | 'member.muted'
    | 'group.updated'
    | 'group.muted'
    | 'group.dismissed';
  /** Who did it (the member themself for joining by approval-free apply and leaving). */
  operatorId: string;
  /** Its details by type (`userId`, `roleLevel`, `mutedUntil`, the changed group fields …). */
  [field: string]: unknown;
}
