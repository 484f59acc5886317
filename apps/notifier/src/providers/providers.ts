import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { LOGGER, METRICS } from '#libs/platform';
import type { Metrics } from '#libs/observability';
import { Counter, Gauge, Histogram } from 'prom-client';
import { captureInbox, type NotifierConfig } from '../config.js';
import { CaptureProvider } from './capture.provider.js';
import { CHANNELS, type Channel } from './channel.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { FcmPushProvider } from './fcm-push.provider.js';
import { ProviderError, type ChannelProvider, type MessageOf, type Providers, type ReconcileQuery, type ReconcileResult } from './provider.js';
import { SmtpEmailProvider } from './smtp-email.provider.js';
import { maskContacts } from '../notifications/content.js';
import { createTwilioClient, type TwilioSettings } from './twilio.js';
import { TwilioSmsProvider } from './twilio-sms.provider.js';
import { TwilioVoiceProvider } from './twilio-voice.provider.js';

export function twilioSettings(c: NotifierConfig): TwilioSettings | undefined {
  if (!c.TWILIO_ACCOUNT_SID || !c.TWILIO_AUTH_TOKEN || !c.TWILIO_FROM_NUMBER) return undefined;
  return { accountSid: c.TWILIO_ACCOUNT_SID, authToken: c.TWILIO_AUTH_TOKEN, from: c.TWILIO_FROM_NUMBER, apiUrl: c.TWILIO_API_URL };
}

/**
 * The factory: each channel's real provider where its settings are present; otherwise the capture
 * inbox, unless the inbox is off (production's default), where such a channel has no provider at
 * all and its messages fail at once, so pages move on to the person's next contact method.
 */
export function createProviders(c: NotifierConfig, db: DataSource): Providers {
  const twilio = twilioSettings(c);
  const client = twilio ? createTwilioClient(twilio) : undefined;
  const fallback = <C extends Channel>(channel: C): ChannelProvider<C> =>
    captureInbox(c) === 'off' ? new MissingProvider(channel) : new CaptureProvider(db, channel);
  // A channel named `capture` captures even where real settings exist; otherwise the real provider where configured.
  const real = (name: 'SMS_PROVIDER' | 'VOICE_PROVIDER' | 'PUSH_PROVIDER' | 'EMAIL_PROVIDER', configured: boolean): boolean =>
    c[name] !== 'capture' && configured;
  return {
    email: real('EMAIL_PROVIDER', !!c.SMTP_URL) ? new SmtpEmailProvider(c.SMTP_URL!, c.EMAIL_FROM) : fallback('email'),
    sms: real('SMS_PROVIDER', !!twilio) ? new TwilioSmsProvider(client!, twilio!) : fallback('sms'),
    voice: real('VOICE_PROVIDER', !!twilio) ? new TwilioVoiceProvider(client!, twilio!) : fallback('voice'),
    push: real('PUSH_PROVIDER', !!c.FCM_SERVICE_ACCOUNT)
      ? new FcmPushProvider({ serviceAccount: c.FCM_SERVICE_ACCOUNT!, apiUrl: c.FCM_API_URL })
      : fallback('push'),
  };
}

const SETTINGS: Record<Channel, string> = {
  email: 'SMTP_URL',
  sms: 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER',
  voice: 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER',
  push: 'FCM_SERVICE_ACCOUNT',
};

/** A channel nobody set up, with the capture inbox off: every message fails permanently, saying what to set. */
export class MissingProvider<C extends Channel> implements ChannelProvider<C> {
  readonly name = 'none';

  constructor(readonly channel: C) {}

  send(): Promise<{ providerMessageId: string }> {
    return Promise.reject(new ProviderError(`no ${this.channel} provider is configured (set ${SETTINGS[this.channel]})`, 'permanent'));
  }

  reconcile(): Promise<ReconcileResult> {
    return Promise.resolve({ outcome: 'not-sent' });
  }
}

/**
 * The providers in use, each behind its own circuit breaker. `send` never throws anything but a
 * ProviderError, so the caller only decides what a failure means for the message.
 */
@Injectable()
export class ProviderRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly providers: Providers;
  private readonly breakers = new Map<Channel, CircuitBreaker>();
  private readonly calls: Counter<'channel' | 'provider' | 'outcome'>;
  private readonly callSeconds: Histogram<'channel' | 'provider'>;

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(CONFIG) config: NotifierConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: Metrics,
  ) {
    this.providers = createProviders(config, db);
    for (const ch of CHANNELS) this.breakers.set(ch, new CircuitBreaker(clock, config.CIRCUIT_FAILURE_THRESHOLD, config.CIRCUIT_OPEN_SECONDS * 1000));
    const registers = [metrics.registry];
    this.calls = new Counter({
      name: 'klaxon_notifier_provider_calls_total',
      help: 'Provider calls by channel, provider and outcome (sent, permanent, not-sent, unknown, circuit-open)',
      labelNames: ['channel', 'provider', 'outcome'],
      registers,
    });
    this.callSeconds = new Histogram({
      name: 'klaxon_notifier_provider_call_seconds',
      help: 'Time a provider took to take (or refuse) a message',
      labelNames: ['channel', 'provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const breakers = this.breakers;
    new Gauge({
      name: 'klaxon_notifier_circuit_open',
      help: "1 while a channel's provider circuit is open (the provider is not called), else 0",
      labelNames: ['channel'],
      registers,
      collect() {
        for (const [channel, b] of breakers) this.set({ channel }, b.state === 'open' ? 1 : 0);
      },
    });
    metrics.gauge('klaxon_notifier_overdue_notifications', 'Notifications due more than a minute ago and still waiting', async () => {
      const [row] = await db.query(`SELECT count(*)::int AS n FROM notifications WHERE status = 'queued' AND due_at < $1`, [
        new Date(clock.now().getTime() - 60_000),
      ]);
      return row.n;
    });
  }

  onModuleInit(): void {
    this.logger.info(Object.fromEntries(CHANNELS.map((c) => [c, this.providers[c].name])), 'notification providers');
  }

  get<C extends Channel>(channel: C): ChannelProvider<C> {
    return this.providers[channel] as unknown as ChannelProvider<C>;
  }

  isCapture(channel: Channel): boolean {
    return this.providers[channel] instanceof CaptureProvider;
  }

  /** While a provider's circuit is open, when it may be tried again; null when it may be called now. */
  openUntil(channel: Channel): Date | null {
    return this.breakers.get(channel)!.openUntil();
  }

  async send<C extends Channel>(channel: C, message: MessageOf[C]): Promise<{ providerMessageId: string }> {
    const breaker = this.breakers.get(channel)!;
    const provider = this.get(channel);
    if (!breaker.tryAcquire()) {
      this.calls.inc({ channel, provider: provider.name, outcome: 'circuit-open' });
      throw new ProviderError(`${provider.name} ${channel} is failing; not called until it recovers (circuit open)`, 'not-sent', { circuitOpen: true });
    }
    const timer = this.callSeconds.startTimer({ channel, provider: provider.name });
    try {
      const result = await provider.send(message);
      breaker.success();
      this.calls.inc({ channel, provider: provider.name, outcome: 'sent' });
      return result;
    } catch (err) {
      const raw = err instanceof ProviderError ? err : new ProviderError((err as Error)?.message ?? String(err), 'unknown');
      // Error texts go to logs and events: no full numbers or addresses in them.
      const e = new ProviderError(maskContacts(raw.message), raw.kind, raw);
      if (e.kind === 'permanent') breaker.release();
      else breaker.failure();
      this.calls.inc({ channel, provider: provider.name, outcome: e.kind });
      throw e;
    } finally {
      timer();
    }
  }

  reconcile<C extends Channel>(channel: C, query: ReconcileQuery<MessageOf[C]>): Promise<ReconcileResult> {
    return this.get(channel).reconcile(query);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const p of Object.values(this.providers)) {
      const closable = p as { close?: () => unknown };
      await Promise.resolve(closable.close?.()).catch(() => undefined);
    }
  }
}
