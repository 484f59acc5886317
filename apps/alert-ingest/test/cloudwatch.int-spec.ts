import { execFileSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startIngest, type Ingest } from './helpers.js';
import { stringToSign, type SnsMessage } from '../src/cloudwatch/sns.js';

/** A self-signed RSA certificate, made with openssl, standing in for SNS's signing certificate. */
function makeCertificate(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sns-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=sns.test',
      ],
      { stdio: 'pipe' },
    );
    return { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A local stand-in for sns.<region>.amazonaws.com: serves the certificate and records subscription confirmations. */
async function fakeSns(cert: string) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/SimpleNotificationService-test.pem') res.end(cert);
    else if (req.url?.startsWith('/?Action=ConfirmSubscription')) res.end('<ConfirmSubscriptionResponse/>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:klaxon-alarms';
const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx';

describe('AWS CloudWatch alarms through SNS', () => {
  let t: Ingest;
  let sns: Awaited<ReturnType<typeof fakeSns>>;
  let signing: { key: string; cert: string };
  let key: string;
  let serviceId: string;

  function sign(
    m: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'> & { SignatureVersion?: '1' | '2'; SigningCertURL?: string },
    privateKey = signing.key,
  ): SnsMessage {
    const full = { SignatureVersion: '2' as const, SigningCertURL: `${sns.base}/SimpleNotificationService-test.pem`, ...m, Signature: '' };
    const s = createSign(full.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    s.update(stringToSign(full as SnsMessage));
    return { ...full, Signature: s.sign(privateKey, 'base64') } as SnsMessage;
  }

  const alarm = (state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA', messageId = randomUUID()) =>
    sign({
      Type: 'Notification',
      MessageId: messageId,
      TopicArn: TOPIC,
      Subject: `${state}: "checkout-5xx" in EU (Ireland)`,
      Message: JSON.stringify({
        AlarmName: 'checkout-5xx',
        AlarmDescription: 'Checkout returns 5xx',
        AWSAccountId: '123456789012',
        NewStateValue: state,
        NewStateReason: 'Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).',
        StateChangeTime: '2024-05-01T10:00:00.000+0000',
        Region: 'EU (Ireland)',
        AlarmArn: ALARM_ARN,
        OldStateValue: 'OK',
        Trigger: {
          MetricName: 'HTTPCode_Target_5XX_Count',
          Namespace: 'AWS/ApplicationELB',
          Dimensions: [{ name: 'LoadBalancer', value: 'app/checkout/abc' }],
        },
      }),
      Timestamp: new Date().toISOString(),
      UnsubscribeURL: `${sns.base}/?Action=Unsubscribe`,
    });

  const deliver = (m: unknown, k = key) =>
    t.sender.post(`/integrations/cloudwatch/${k}`, JSON.stringify(m), {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': (m as SnsMessage).Type,
    });

  beforeAll(async () => {
    signing = makeCertificate();
    sns = await fakeSns(signing.cert);
    // Only in tests: the certificate comes from 127.0.0.1 over http.
    t = await startIngest({ SNS_SIGNING_CERT_HOSTS: '^127\\.0\\.0\\.1$', SNS_ALLOW_HTTP_CERT_URLS: 'true' });
    ({ key, serviceId } = await t.integration('cloudwatch', { topicArns: [TOPIC] }));
  });
  afterAll(async () => {
    await t.close();
    await sns.close();
  });

  it('confirms a subscription only after verifying its signature', async () => {
    const confirmation = {
      Type: 'SubscriptionConfirmation' as const,
      MessageId: randomUUID(),
      Token: 'token-123',
      TopicArn: TOPIC,
      Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
      SubscribeURL: `${sns.base}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=token-123`,
      Timestamp: new Date().toISOString(),
    };
    const forged = sign(confirmation, makeCertificate().key);
    const refused = await deliver(forged);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('SNS signature does not verify');
    expect(sns.hits.filter((h) => h.includes('ConfirmSubscription'))).toEqual([]);

    // A SubscribeURL pointing anywhere else is never fetched, even when signed.
    const elsewhere = await deliver(sign({ ...confirmation, SubscribeURL: 'http://169.254.169.254/latest/meta-data/' }));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.message).toContain('SubscribeURL host 169.254.169.254 is not an Amazon SNS host');

    const ok = await deliver(sign(confirmation));
    expect(ok.status).toBe(200);
    expect(sns.hits.filter((h) => h.includes('ConfirmSubscription'))).toHaveLength(1);
  });

  it('refuses certificates from hosts off the allow-list without fetching them, and topics not configured', async () => {
    const before = sns.hits.length;
    const offList = await deliver(sign({ ...alarm('ALARM'), SigningCertURL: `http://localhost:${new URL(sns.base).port}/SimpleNotificationService-test.pem` }));
    expect(offList.status).toBe(403);
    expect(offList.body.message).toContain('SigningCertURL host localhost is not an Amazon SNS host');
    expect(sns.hits.length).toBe(before);
    expect(await t.alerts(serviceId)).toEqual([]);
    const otherTopic = await deliver(sign({ ...alarm('ALARM'), TopicArn: 'arn:aws:sns:eu-west-1:123456789012:someone-else' }));
    expect(otherTopic.status).toBe(403);
    expect(otherTopic.body.message).toContain('is not allowed for this integration');
    const replay = await deliver(sign({ ...alarm('ALARM'), Timestamp: new Date(Date.now() - 3 * 86400_000).toISOString() }));
    expect(replay.status).toBe(403);
    expect(replay.body.message).toContain('refusing a replay');
    const notJson = await t.sender.post(`/integrations/cloudwatch/${key}`, 'hello', { 'content-type': 'text/plain' });
    expect(notJson.status).toBe(400);
  });

  it('ALARM opens an alert keyed by the alarm ARN, a redelivery changes nothing, OK resolves it', async () => {
    const list0 = await t.alerts(serviceId);
    for (const a of list0) expect(a.dedupKey).toBe(ALARM_ARN);
    await deliver(alarm('OK')); // start clean: whatever the previous test opened is resolved
    const firing = alarm('ALARM');
    expect((await deliver(firing)).status).toBe(200);
    const redelivery = await deliver(firing);
    expect(redelivery.status).toBe(200);
    expect(redelivery.body.message).toBe('Already processed (same MessageId)');
    const [open] = await t.alerts(serviceId, '&status=open');
    expect(open).toMatchObject({
      dedupKey: ALARM_ARN,
      count: 1,
      summary: 'checkout-5xx: Checkout returns 5xx',
      severity: 'critical',
      source: 'AWS/ApplicationELB',
      labels: { alarm: 'checkout-5xx', metric: 'HTTPCode_Target_5XX_Count', LoadBalancer: 'app/checkout/abc' },
    });
    // SignatureVersion 1 (SHA1) is still what many regions send.
    expect((await deliver(sign({ ...alarm('INSUFFICIENT_DATA'), SignatureVersion: '1' }))).status).toBe(200);
    expect((await t.alerts(serviceId, '&status=open'))[0].id).toBe(open.id);
    await deliver(alarm('OK'));
    expect(await t.alerts(serviceId, '&status=open')).toEqual([]);
    expect((await t.alerts(serviceId)).find((a) => a.id === open.id).status).toBe('resolved');
  });
});
