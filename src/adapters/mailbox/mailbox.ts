/**
 * Each gateway's own delivery channel: whoever stores a message sends the push to
 * exactly the gateways that hold its recipients (found through Presence), never
 * a broadcast to all. Delivery is at most once: a gateway that is down misses the
 * message, and its clients repair the gap with `conversation.sync` when they
 * reconnect. NATS core subjects or Redis pub/sub across processes, in-process on
 * one node; all pass mailbox.contract.ts.
 */
export interface NodeMailbox {
  send(nodeId: string, message: string): Promise<void>;
  /**
   * Starts receiving this node's messages, in the order each sender sent them.
   * `onGap` is called when messages may have been lost: the connection to the
   * transport dropped and came back (the receiver then tells its sockets to sync).
   */
  listen(nodeId: string, handler: (message: string) => void, onGap?: () => void): Promise<void>;
  close(): Promise<void>;
}

export type MailboxKind = 'memory' | 'nats' | 'redis';
