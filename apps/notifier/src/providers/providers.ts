import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { LOGGER } from '#libs/platform';
import type { NotifierConfig } from '../config.js';
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

/** The factory: each channel's real provider where its settings are present, the capture inbox otherwise. */
export function createProviders(c: NotifierConfig, db: DataSource): Providers {
  const twilio = twilioSettings(c);
  const client = twilio ? createTwilioClient(twilio) : undefined;
  return {
    email: c.SMTP_URL ? new SmtpEmailProvider(c.SMTP_URL, c.EMAIL_FROM) : new CaptureProvider(db, 'email'),
    sms: twilio ? new TwilioSmsProvider(client!, twilio) : new CaptureProvider(db, 'sms'),
    voice: twilio ? new TwilioVoiceProvider(client!, twilio) : new CaptureProvider(db, 'voice'),
    push: c.FCM_SERVICE_ACCOUNT ? new FcmPushProvider({ serviceAccount: c.FCM_SERVICE_ACCOUNT, apiUrl: c.FCM_API_URL }) : new CaptureProvider(db, 'push'),
  };
}

/**
 * The providers in use, each behind its own circuit breaker. `send` never throws anything but a
 * ProviderError, so the caller only decides what a failure means for the message.
 */
@Injectable()
export class ProviderRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly providers: Providers;
  private readonly breakers = new Map<Channel, CircuitBreaker>();

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(CONFIG) config: NotifierConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.providers = createProviders(config, db);
    for (const ch of CHANNELS) this.breakers.set(ch, new CircuitBreaker(clock, config.CIRCUIT_FAILURE_THRESHOLD, config.CIRCUIT_OPEN_SECONDS * 1000));
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
    if (!breaker.tryAcquire())
      throw new ProviderError(`${provider.name} ${channel} is failing; not called until it recovers (circuit open)`, 'not-sent', false, true);
    try {
      const result = await provider.send(message);
      breaker.success();
      return result;
    } catch (err) {
      const raw = err instanceof ProviderError ? err : new ProviderError((err as Error)?.message ?? String(err), 'unknown');
      // Error texts go to logs and events: no full numbers or addresses in them.
      const e = new ProviderError(maskContacts(raw.message), raw.kind, raw.invalidDestination, raw.circuitOpen);
      if (e.kind === 'permanent') breaker.release();
      else breaker.failure();
      throw e;
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
