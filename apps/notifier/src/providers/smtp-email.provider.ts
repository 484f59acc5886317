import nodemailer, { type Transporter } from 'nodemailer';
import { classifyNetworkError, ProviderError, type EmailMessage, type EmailProvider, type ReconcileResult } from './provider.js';

/** Email through nodemailer over SMTP (SMTP_URL: any relay, a provider's SMTP endpoint, a local server). */
export class SmtpEmailProvider implements EmailProvider {
  readonly name = 'smtp';
  readonly channel = 'email';
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
    // nodemailer waits minutes by default; a page must not (the send deadline is 30 s). The URL may override these.
    for (const [k, v] of [
      // Pages come in bursts: nodemailer's default of 5 pooled connections queued a steady 50 emails a second for seconds.
      ['maxConnections', '20'],
      ['connectionTimeout', '10000'],
      ['greetingTimeout', '10000'],
      ['socketTimeout', '20000'],
    ] as const)
      if (!url.searchParams.has(k)) url.searchParams.set(k, v);
    this.transport = nodemailer.createTransport(url.toString());
    this.domain = /@([^>]+)>?$/.exec(from)?.[1] ?? 'klaxon.local';
  }

  async send(m: EmailMessage): Promise<{ providerMessageId: string }> {
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: `<${m.notificationId}@${this.domain}>`,
        headers: { 'X-Klaxon-Notification': m.notificationId },
      });
      return { providerMessageId: info.messageId };
    } catch (err) {
      throw classifySmtpError(err);
    }
  }

  /** SMTP offers no way to ask whether a message went out: the outcome stays unknown, never resent blindly. */
  async reconcile(): Promise<ReconcileResult> {
    return { outcome: 'unknown' };
  }

  close(): void {
    this.transport.close();
  }
}

/** 4xx replies are "try again later" (nothing accepted), 5xx are final; a dropped connection may or may not have delivered. */
function classifySmtpError(err: unknown): ProviderError {
  const e = err as { responseCode?: number; code?: string; message?: string };
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 400 && e.responseCode < 500) return new ProviderError(`SMTP ${e.responseCode}: ${e.message}`, 'not-sent');
    if (e.responseCode >= 500)
      return new ProviderError(`SMTP ${e.responseCode}: ${e.message}`, 'permanent', { invalidDestination: e.responseCode === 550 || e.responseCode === 553 });
  }
  if (e.code === 'EENVELOPE') return new ProviderError(e.message ?? 'bad envelope', 'permanent', { invalidDestination: true });
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET') {
    const net = classifyNetworkError(err);
    // Refused before a word was exchanged: nothing was sent.
    return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(e.message ?? '') ? new ProviderError(net.message, 'not-sent') : net;
  }
  return classifyNetworkError(err);
}
