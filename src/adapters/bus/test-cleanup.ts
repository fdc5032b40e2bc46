import amqp from 'amqplib';

/** Deletes the exchanges and queues a RabbitBroker declared (tests and benchmarks). */
export async function deleteRabbitNames(
  url: string,
  declared: { exchanges: Set<string>; queues: Set<string> },
): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const queue of declared.queues) await ch.deleteQueue(queue);
    for (const exchange of declared.exchanges) await ch.deleteExchange(exchange);
    await ch.close();
  } finally {
    await conn.close();
  }
}
