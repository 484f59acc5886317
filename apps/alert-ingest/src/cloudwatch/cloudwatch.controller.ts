import { Body, Controller, ForbiddenException, Headers, HttpCode, Inject, Param, Post, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import type { Logger } from 'pino';
import { Public } from '#libs/auth';
import { InvalidInputError, LOGGER } from '#libs/platform';
import { IngestService } from '../alerts/ingest.service.js';
import type { IntegrationConfig } from '../integrations/integration-config.js';
import { IntegrationKeys } from '../integrations/integration-keys.js';
import { plainError, senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { SnsFetcher, SnsUnreachableError } from './sns-fetcher.js';
import { certificateProblem, notificationEvents, signatureValid, SnsMessageSchema } from './sns.js';

const MAX_MESSAGE_AGE_MS = 24 * 3600 * 1000;

/**
 * AWS CloudWatch alarms through an SNS HTTPS subscription to /integrations/cloudwatch/<key>.
 * Order matters: parse, check the key, check the topic is allow-listed, verify the signature
 * against a certificate from an allow-listed SNS host, and only then act (confirm a subscription,
 * or apply the alarm, once per MessageId).
 */
@Controller('integrations/cloudwatch')
@Public()
@UseFilters(senderErrorFilter(plainError))
export class CloudWatchController {
  constructor(
    private readonly keys: IntegrationKeys,
    private readonly ingest: IngestService,
    private readonly sns: SnsFetcher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post(':key')
  @HttpCode(200)
  async receive(@Param('key') key: string, @Headers('x-amz-sns-message-type') typeHeader: string | undefined, @Body() body: unknown): Promise<unknown> {
    const integration = await this.keys.authenticate(key, ['cloudwatch']);
    let json = body;
    if (typeof body === 'string') {
      try {
        json = JSON.parse(body);
      } catch {
        throw new InvalidInputError('Body is not an SNS message: it is not JSON');
      }
    }
    const parsed = SnsMessageSchema.safeParse(json);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
      throw new InvalidInputError(`Body is not an SNS message: ${errors.slice(0, 10).join('; ')}`, errors);
    }
    const m = parsed.data;
    if (typeHeader && typeHeader !== m.Type) throw new InvalidInputError(`x-amz-sns-message-type says ${typeHeader} but the message is a ${m.Type}`);
    const config = integration.config as IntegrationConfig<'cloudwatch'>;
    if (!config.topicArns.includes(m.TopicArn)) throw new ForbiddenException(`Topic ${m.TopicArn} is not allowed for this integration (config.topicArns)`);
    const certProblem = this.sns.problemWith(m.SigningCertURL);
    if (certProblem) throw new ForbiddenException(`SigningCertURL ${certProblem}`);
    let pem: string;
    try {
      pem = await this.sns.certificate(m.SigningCertURL);
    } catch (err) {
      throw new ServiceUnavailableException({
        message: `Cannot get the SNS signing certificate to verify this message (${(err as Error).message}); retry later`,
        retryAfterSeconds: 5,
      });
    }
    const invalid = certificateProblem(pem, new Date());
    if (invalid) throw new ForbiddenException(`SNS signature not verified: ${invalid}`);
    if (!signatureValid(m, pem)) throw new ForbiddenException('SNS signature does not verify: the message was not sent by SNS or was altered');
    // SNS gives up retrying within hours; a signed message days old is a replay, not a delivery.
    const sent = Date.parse(m.Timestamp);
    if (!Number.isFinite(sent) || Math.abs(Date.now() - sent) > MAX_MESSAGE_AGE_MS)
      throw new ForbiddenException('SNS message Timestamp is more than a day away from now: refusing a replay');

    if (m.Type === 'SubscriptionConfirmation') {
      const problem = m.SubscribeURL ? this.sns.problemWith(m.SubscribeURL) : 'is missing';
      if (problem) throw new InvalidInputError(`SubscribeURL ${problem}`);
      try {
        await this.sns.confirm(m.SubscribeURL!);
      } catch (err) {
        if (err instanceof SnsUnreachableError)
          throw new ServiceUnavailableException({ message: `Could not confirm the subscription (${err.message}); SNS will retry`, retryAfterSeconds: 5 });
        throw err;
      }
      this.logger.info({ integrationId: integration.id, topicArn: m.TopicArn }, 'SNS subscription confirmed');
      return { status: 'success', message: `Subscribed to ${m.TopicArn}` };
    }
    if (m.Type === 'UnsubscribeConfirmation') {
      this.logger.info({ integrationId: integration.id, topicArn: m.TopicArn }, 'SNS subscription ended');
      return { status: 'success', message: `Unsubscribed from ${m.TopicArn}` };
    }
    const events = notificationEvents(m, config.defaultSeverity ?? 'critical');
    // MessageId is stable across SNS redeliveries: a redelivery changes nothing.
    const result = await this.ingest.submit({ integration, events, deliveryId: m.MessageId });
    return {
      status: 'success',
      message: result.redelivered ? 'Already processed (same MessageId)' : `${events.length} alarm event${events.length === 1 ? '' : 's'} processed`,
    };
  }
}
