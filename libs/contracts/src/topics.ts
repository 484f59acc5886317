/**
 * Every Kafka topic Klaxon uses, who writes it, what it is keyed by and how many partitions it has.
 * Names are logical; `topicName()` adds the deployment's prefix (tests use one per run so runs
 * never see each other's messages).
 */
export const Topics = {
  /** alert-ingest → incidents. Alert lifecycle, keyed by alert id so one alert's events stay in order. */
  alerts: { name: 'klaxon.alerts', partitions: 6 },
  /** incidents → oncall, notifier. Incident lifecycle, keyed by incident id. */
  incidents: { name: 'klaxon.incidents', partitions: 6 },
  /** oncall → notifier, incidents. Page requests and escalation progress, keyed by incident id. */
  pages: { name: 'klaxon.pages', partitions: 6 },
  /** notifier → incidents. Delivery outcomes and responders' actions from their phones, keyed by incident id. */
  notifications: { name: 'klaxon.notifications', partitions: 6 },
  /** oncall → everyone. Users, teams and services, keyed by entity id (compaction-friendly). */
  directory: { name: 'klaxon.directory', partitions: 3 },
} as const;

export type TopicId = keyof typeof Topics;

/** Messages that failed every attempt go to `<topic>.dlq` with the original headers plus the reason. */
export const DLQ_SUFFIX = '.dlq';

export function topicName(id: TopicId, prefix = ''): string {
  return `${prefix}${Topics[id].name}`;
}

export function dlqTopicName(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** All topics a deployment needs (including dead-letter topics), with partition counts. */
export function allTopics(prefix = ''): { topic: string; numPartitions: number }[] {
  return (Object.keys(Topics) as TopicId[]).flatMap((id) => [
    { topic: topicName(id, prefix), numPartitions: Topics[id].partitions },
    { topic: dlqTopicName(topicName(id, prefix)), numPartitions: 1 },
  ]);
}
