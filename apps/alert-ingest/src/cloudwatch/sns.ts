import { createVerify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { clampSource, clampSummary, type NormalizedEvent, type Severity } from '../alerts/normalized.js';

/*
 * Amazon SNS HTTP(S) deliveries and the CloudWatch alarm notifications inside them. Nothing in a
 * message is trusted (not even its SubscribeURL) until its signature is verified against a
 * certificate fetched from an allow-listed host.
 */

export const SnsMessageSchema = z.looseObject({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'], {
    message: 'Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation',
  }),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1).max(1000),
  Subject: z.string().max(1000).optional(),
  Message: z.string().max(300_000),
  Timestamp: z.string().min(1).max(100),
  SignatureVersion: z.enum(['1', '2'], { message: 'SignatureVersion must be 1 or 2' }),
  Signature: z.string().min(1).max(10000),
  SigningCertURL: z.string().min(1).max(2048),
  SubscribeURL: z.string().max(4096).optional(),
  Token: z.string().max(4096).optional(),
  UnsubscribeURL: z.string().max(4096).optional(),
});
export type SnsMessage = z.output<typeof SnsMessageSchema>;

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const SUBSCRIPTION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

/** The string SNS signs: "Key\nValue\n" for each present field, in AWS's order for the message type. */
export function stringToSign(m: SnsMessage): string {
  const keys = m.Type === 'Notification' ? NOTIFICATION_KEYS : SUBSCRIPTION_KEYS;
  return keys
    .filter((k) => (m as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${k}\n${(m as Record<string, unknown>)[k] as string}\n`)
    .join('');
}

export function signatureValid(m: SnsMessage, certPem: string): boolean {
  try {
    const v = createVerify(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    v.update(stringToSign(m), 'utf8');
    return v.verify(new X509Certificate(certPem).publicKey, m.Signature, 'base64');
  } catch {
    return false;
  }
}

/** Why a URL may not be fetched (a certificate or a subscription link), or undefined when it may. */
export function urlProblem(raw: string, hostPattern: RegExp, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) return 'must be https';
  if (url.username || url.password) return 'must not carry credentials';
  if (!hostPattern.test(url.hostname)) return `host ${url.hostname} is not an Amazon SNS host`;
  return undefined;
}

export function certificateProblem(pem: string, now: Date): string | undefined {
  try {
    const cert = new X509Certificate(pem);
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return 'the signing certificate is not valid now';
    return undefined;
  } catch {
    return 'the signing certificate cannot be read';
  }
}

const AlarmSchema = z.looseObject({
  AlarmName: z.string().min(1),
  AlarmDescription: z.string().nullable().optional(),
  AWSAccountId: z.string().optional(),
  NewStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
  Region: z.string().optional(),
  AlarmArn: z.string().optional(),
  OldStateValue: z.string().optional(),
  Trigger: z
    .looseObject({
      MetricName: z.string().optional(),
      Namespace: z.string().optional(),
      Dimensions: z.array(z.looseObject({ name: z.string().optional(), value: z.string().optional() })).optional(),
    })
    .optional(),
});

/**
 * The events in a verified notification: a CloudWatch alarm (ALARM triggers, OK resolves,
 * INSUFFICIENT_DATA changes nothing), or any other SNS message as a trigger of its own.
 */
export function notificationEvents(m: SnsMessage, defaultSeverity: Severity): NormalizedEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(m.Message);
  } catch {
    json = undefined;
  }
  const alarm = AlarmSchema.safeParse(json);
  if (alarm.success) {
    const a = alarm.data;
    if (a.NewStateValue === 'INSUFFICIENT_DATA') return [];
    const dedupKey = a.AlarmArn ?? `${m.TopicArn}:${a.AlarmName}`;
    const labels: Record<string, string> = { alarm: a.AlarmName };
    if (a.Region) labels.region = a.Region;
    if (a.AWSAccountId) labels.account = a.AWSAccountId;
    if (a.Trigger?.Namespace) labels.namespace = a.Trigger.Namespace;
    if (a.Trigger?.MetricName) labels.metric = a.Trigger.MetricName;
    for (const d of a.Trigger?.Dimensions ?? []) if (d.name && d.value) labels[d.name] = d.value;
    return [
      {
        action: a.NewStateValue === 'ALARM' ? 'trigger' : 'resolve',
        dedupKey: dedupKey.slice(0, 512),
        summary: clampSummary(a.AlarmDescription ? `${a.AlarmName}: ${a.AlarmDescription}` : a.AlarmName),
        severity: defaultSeverity,
        source: clampSource(a.Trigger?.Namespace ?? 'cloudwatch'),
        component: a.Trigger?.MetricName ?? null,
        group: a.Region ?? null,
        class: 'cloudwatch-alarm',
        details: { ...a, topicArn: m.TopicArn, messageId: m.MessageId },
        links: [],
        labels,
      },
    ];
  }
  return [
    {
      action: 'trigger',
      dedupKey: `sns:${m.MessageId}`.slice(0, 512),
      summary: clampSummary(m.Subject ?? m.Message.slice(0, 1024)),
      severity: defaultSeverity,
      source: clampSource(m.TopicArn),
      details: { message: json ?? m.Message, topicArn: m.TopicArn, messageId: m.MessageId, subject: m.Subject },
      links: [],
      labels: { topic: m.TopicArn.split(':').pop() ?? m.TopicArn },
    },
  ];
}
