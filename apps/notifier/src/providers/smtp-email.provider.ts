import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailMessage, EmailProvider, ReconcileResult } from './provider.js';

/** Email through nodemailer over SMTP. */
export class SmtpEmailProvider implements EmailProvider {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
    this.transport = nodemailer.createTransport(url.toString());
  }

  async send(m: EmailMessage): Promise<{ providerMessageId: string }> {
    const domain = /@([^>]+)>?$/.exec(this.from)?.[1] ?? 'klaxon.local';
    const info = await this.transport.sendMail({
      from: this.from,
      to: m.to,
      subject: m.subject,
      text: m.text,
      html: m.html,
      messageId: `<${m.notificationId}@${domain}>`,
      headers: { 'X-Klaxon-Notification': m.notificationId },
    });
    return { providerMessageId: info.messageId };
  }

  /** SMTP offers no way to ask whether a message went out: the outcome stays unknown, never resent blindly. */
  async reconcile(): Promise<ReconcileResult> {
    return { outcome: 'unknown' };
  }

  close(): void {
    this.transport.close();
  }
}
