import type { Broker, Subscription } from '../adapters/bus/bus.js';
import { EventTopic } from '../events/typed-events.js';
import type { EventMessage } from '../adapters/bus/event-message.js';
import { EVENT_VERSION } from '../events/event-recorder.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';

/** A group push handed to the workers: the frame and whom it is for. */
export interface FanoutJob {
  conversationId: string;
  /** Recipients are the participants who joined before this seq. */
  seq: number;
  frame: string;
  exceptConnectionId?: string;
}

export const FANOUT_JOB = 'group_message-fanout';

/** The event type of the fan-out topics, with its payload. */
interface FanoutJobMap {
  [FANOUT_JOB]: FanoutJob;
}

/**
 * Large group fan-out through the broker. Jobs are spread over `partitions`
 * topics by conversation; each partition is an ordered queue (one job in flight
 * across every worker), so one conversation's pushes go out in the order their
 * jobs were queued, while different partitions proceed in parallel. A worker
 * killed mid-job leaves the job unacknowledged: it runs again (at least once).
 */
export class GroupFanoutJobs {
  constructor(
    private readonly deps: { broker: Broker; partitions: number; source: string; clock: Clock },
  ) {}

  async enqueue(job: FanoutJob): Promise<void> {
    const event: EventMessage<FanoutJob> = {
      id: newId(),
      type: FANOUT_JOB,
      aggregate: 'chat',
      timestamp: this.deps.clock(),
      payload: job,
      metadata: { source: this.deps.source, version: EVENT_VERSION },
    };
    await this.deps.broker.resilientPublish(this.topic(this.partitionOf(job.conversationId)), [
      { event, key: job.conversationId },
    ]);
  }

  /** Worker role: runs jobs from every partition. */
  async consume(run: (job: FanoutJob) => Promise<void>): Promise<Subscription[]> {
    const subscriptions: Subscription[] = [];
    for (let p = 0; p < this.deps.partitions; p += 1) {
      subscriptions.push(
        await new EventTopic<FanoutJobMap>(this.topic(p)).consume(
          this.deps.broker,
          { queue: this.topic(p), types: [FANOUT_JOB], ordered: true },
          (event) => run(event.payload),
        ),
      );
    }
    return subscriptions;
  }

  /** The queues jobs wait in (one per partition), for the admin API's dead letters. */
  queues(): string[] {
    return Array.from({ length: this.deps.partitions }, (_, p) => this.topic(p));
  }

  private topic(partition: number): string {
    return `im-fanout-${partition}`;
  }

  /** FNV-1a of the conversation id: stable across processes and restarts. */
  private partitionOf(conversationId: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < conversationId.length; i += 1) {
      hash ^= conversationId.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % this.deps.partitions;
  }
}

/** Worker role: runs the group fan-out jobs of every partition through the delivery. */
export function startFanoutWorker(
  jobs: GroupFanoutJobs,
  delivery: { runJob(job: FanoutJob): Promise<void> },
): Promise<Subscription[]> {
  return jobs.consume((job) => delivery.runJob(job));
}
